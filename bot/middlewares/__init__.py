"""Dispatcher middlewares: the applicant behind each update, and the position index kept in step."""
