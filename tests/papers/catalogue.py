"""A small catalogue of four themes, for tests of what the relevance vectors say about papers."""

from __future__ import annotations

import datetime as dt

from papers.models import Paper
from tests.factories import PaperFactory

TUE = dt.date(2026, 11, 24)

# Four themes, four papers each, all in one category: only what they say tells them apart.
THEMES = {
    "decoding": [
        (
            "Speculative decoding for transformer inference",
            "A small draft model proposes tokens that the large language model verifies in parallel, "
            "speeding up autoregressive decoding without changing the output distribution.",
        ),
        (
            "Draft trees make speculative decoding faster",
            "Tree-structured drafts let the target language model verify many candidate tokens at once "
            "and accept longer prefixes during autoregressive generation.",
        ),
        (
            "Accelerating large model generation with self-drafting",
            "The language model drafts its own future tokens with early-exit layers and verifies them, "
            "a speculative decoding scheme that needs no separate draft model.",
        ),
        (
            "Lookahead verification for low-latency serving",
            "Serving systems cut the latency of autoregressive decoding by verifying drafted tokens "
            "from a cheap draft model; we schedule verification across batches of requests.",
        ),
    ],
    "proteins": [
        (
            "Protein structure prediction from single sequences",
            "We predict the folded three-dimensional structure of a protein from its amino acid "
            "sequence without multiple sequence alignments.",
        ),
        (
            "Diffusion over residues designs stable protein backbones",
            "A generative model over amino acid residues designs protein backbones that fold stably, "
            "verified by structure prediction.",
        ),
        (
            "Binding affinity of protein ligand complexes",
            "We estimate how strongly small molecule ligands bind protein pockets from the folded "
            "structure and amino acid contacts.",
        ),
        (
            "Amino acid language for enzyme function",
            "Sequence models over amino acid chains predict the function of enzymes and the folded "
            "protein structure they adopt.",
        ),
    ],
    "robots": [
        (
            "Grasping unknown objects with tactile feedback",
            "A robot arm grasps objects it has never seen using tactile sensors in its gripper fingers "
            "and a learned grasp controller.",
        ),
        (
            "Dexterous manipulation by a five-fingered robot hand",
            "Reinforcement learning teaches a robot hand to rotate and grasp objects in simulation and "
            "transfers the controller to the real gripper.",
        ),
        (
            "Legged locomotion over rough terrain",
            "A quadruped robot learns a locomotion controller that walks over stairs and rough terrain "
            "from proprioception alone.",
        ),
        (
            "Mobile manipulators that open doors",
            "A wheeled robot with an arm grasps door handles and opens doors in homes with a "
            "learned manipulation controller.",
        ),
    ],
    "climate": [
        (
            "Weather forecasting with graph networks",
            "A learned model forecasts global weather ten days ahead from reanalysis data, beating "
            "numerical forecasts of temperature and precipitation.",
        ),
        (
            "Downscaling climate projections",
            "We downscale coarse climate model projections of temperature and precipitation to "
            "regional resolution for impact studies.",
        ),
        (
            "Probabilistic precipitation nowcasting from radar",
            "An ensemble of generated radar frames gives calibrated short-range forecasts of "
            "precipitation for the next two hours.",
        ),
        (
            "Seasonal forecasts of sea surface temperature",
            "We forecast sea surface temperature anomalies months ahead and the climate patterns "
            "they drive, with calibrated uncertainty.",
        ),
    ],
}


def themed_catalogue() -> dict[str, list[Paper]]:
    """Create the four themes' papers (one category, one day) and return them by theme."""
    return {
        theme: [
            PaperFactory(
                title=title,
                abstract=abstract,
                primary_category="cs.LG",
                categories=["cs.LG"],
                announced_on=TUE,
            )
            for title, abstract in papers
        ]
        for theme, papers in THEMES.items()
    }
