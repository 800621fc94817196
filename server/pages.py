"""Linked-data pages, browsing, search and the query UI (the `pages` blueprint)."""

from flask import Blueprint

bp = Blueprint("pages", __name__)
