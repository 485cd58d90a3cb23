"""A useful default set of topics, each mapped to arXiv categories and keywords; editable in the admin."""

from django.db import migrations

TOPICS = [
    (
        "Large language models",
        "llm",
        "Training, scaling, evaluating and using large language models.",
        ["cs.CL"],
        [
            "language model",
            "LLM",
            "LLMs",
            "instruction tuning",
            "in-context learning",
            "tokenizer",
            "pretraining",
        ],
        [],
    ),
    (
        "Reasoning",
        "reasoning",
        "Chain-of-thought, math and logical reasoning, planning with models.",
        [],
        ["reasoning", "chain-of-thought", "mathematical", "theorem proving", "planning"],
        [],
    ),
    (
        "Computer vision",
        "computer-vision",
        "Image and video understanding, detection, segmentation, 3D.",
        ["cs.CV"],
        ["image", "video", "segmentation", "object detection", "3D reconstruction"],
        [],
    ),
    (
        "Generative models",
        "generative-models",
        "Diffusion, flow matching and other generators of images, video and audio.",
        [],
        ["diffusion", "flow matching", "text-to-image", "text-to-video", "generative model"],
        [],
    ),
    (
        "Multimodal",
        "multimodal",
        "Models that combine text, images, video and audio.",
        [],
        ["multimodal", "vision-language", "VLM", "VLMs", "image-text", "audio-visual"],
        [],
    ),
    (
        "Reinforcement learning",
        "reinforcement-learning",
        "Policies, rewards, RL from human or AI feedback.",
        [],
        ["reinforcement learning", "RLHF", "policy optimization", "reward model", "Q-learning", "bandit"],
        [],
    ),
    (
        "AI agents",
        "agents",
        "Language-model agents, tool use, web and software agents.",
        ["cs.MA"],
        ["agent", "agents", "agentic", "tool use", "tool-use", "function calling", "web navigation"],
        [],
    ),
    (
        "Robotics",
        "robotics",
        "Robot learning, manipulation, navigation and embodied AI.",
        ["cs.RO"],
        ["robot", "robotic", "manipulation", "embodied", "vision-language-action"],
        [],
    ),
    (
        "Information retrieval",
        "retrieval",
        "Search, ranking, recommendation and retrieval-augmented generation.",
        ["cs.IR"],
        ["retrieval", "retrieval-augmented", "RAG", "reranking", "dense retrieval", "recommendation"],
        [],
    ),
    (
        "Speech and audio",
        "speech",
        "Speech recognition and synthesis, spoken language, audio models.",
        ["eess.AS", "cs.SD"],
        ["speech", "ASR", "text-to-speech", "spoken", "audio"],
        [],
    ),
    (
        "Machine learning theory",
        "ml-theory",
        "Generalisation, optimisation, statistical learning theory.",
        ["stat.ML", "cs.LG"],
        ["generalization bound", "convergence", "sample complexity", "PAC", "theory"],
        [],
    ),
    (
        "AI safety and alignment",
        "safety-alignment",
        "Alignment, interpretability, robustness, red-teaming, evaluations.",
        ["cs.CY"],
        ["alignment", "safety", "interpretability", "red-teaming", "jailbreak", "harmful"],
        [],
    ),
    (
        "Efficient ML",
        "efficient-ml",
        "Quantisation, sparsity, distillation, fast inference and training.",
        [],
        [
            "quantization",
            "quantisation",
            "pruning",
            "distillation",
            "KV cache",
            "mixture-of-experts",
            "efficient inference",
        ],
        [],
    ),
]


def create(apps, schema_editor):
    Topic = apps.get_model("subscribers", "Topic")
    for position, (name, slug, description, categories, include, exclude) in enumerate(TOPICS):
        Topic.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "description": description,
                "categories": categories,
                "include_keywords": include,
                "exclude_keywords": exclude,
                "position": position,
            },
        )


def remove(apps, schema_editor):
    apps.get_model("subscribers", "Topic").objects.filter(slug__in=[t[1] for t in TOPICS]).delete()


class Migration(migrations.Migration):
    dependencies = [("subscribers", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
