"""The request class: strips NUL characters from every submitted value.
PostgreSQL refuses them in text, SQLite stores them silently, and no person
types one, so they are dropped before any code sees the input."""
from flask import Request as FlaskRequest
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.utils import cached_property


def _clean(values: ImmutableMultiDict) -> ImmutableMultiDict:
    if not any("\x00" in k or "\x00" in v for k, v in values.items(multi=True)):
        return values
    return ImmutableMultiDict([(k.replace("\x00", ""), v.replace("\x00", "")) for k, v in values.items(multi=True)])


class Request(FlaskRequest):
    @cached_property
    def args(self):
        return _clean(super().args)

    def _load_form_data(self):
        super()._load_form_data()
        self.__dict__["form"] = _clean(self.__dict__["form"])
