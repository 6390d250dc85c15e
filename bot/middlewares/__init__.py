"""Dispatcher middlewares: the applicant behind each update."""

from bot.middlewares.applicant import ApplicantMiddleware

__all__ = ["ApplicantMiddleware"]
