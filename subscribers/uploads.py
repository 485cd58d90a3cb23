"""Uploads kept small: a file over the cap is dropped while it arrives, never stored, and the view told."""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt, csrf_protect


class CappedUploadHandler(FileUploadHandler):
    """Keep each uploaded file in memory up to ``limit`` bytes; a larger one is skipped.

    The skipped file's field is listed in ``request.refused_files`` so the form
    can say the file was too large rather than that none was given.
    """

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        request.refused_files = []  # type: ignore[attr-defined]

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.buffer = io.BytesIO()
        self.size = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.size += len(raw_data)
        if self.size > self.limit:
            self.request.refused_files.append(self.field_name)  # type: ignore[union-attr]
            raise SkipFile
        self.buffer.write(raw_data)

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        self.buffer.seek(0)
        return InMemoryUploadedFile(
            self.buffer,
            self.field_name,
            self.file_name,
            self.content_type,
            file_size,
            self.charset,
            self.content_type_extra,
        )


def capped_uploads(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Read the request's files with CappedUploadHandler (SEED_FILE_MAX_BYTES), still checking CSRF.

    The handler must be in place before anything reads the body, and the CSRF
    check reads it: so the check is made here, after the handler is set.
    """
    protected = csrf_protect(view)

    @csrf_exempt
    @wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        request.upload_handlers = [CappedUploadHandler(request, settings.SEED_FILE_MAX_BYTES)]
        return protected(request, *args, **kwargs)

    return wrapped


def refused_files(request: HttpRequest) -> list[str]:
    """Return the fields whose file was too large to keep (after the body was read)."""
    return list(getattr(request, "refused_files", []))
