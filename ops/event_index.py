"""Rasa's event classes found by their type name through an index (#14).

`Event.resolve_by_type` walks every subclass of `Event` (recursively, `inspect.isabstract` on
each) for every event it turns from a dict into an object: each stored event of a conversation
read back, each event in an action server's reply. That was ~6.5% of a turn's time in Rasa's
lock at 20 visitors. The index holds the answer of Rasa's walk for each type name: the first
class in the walk's order with that name. It is rebuilt by the walk whenever a name is not in
it, and emptied whenever a new subclass of `Event` is created (`__init_subclass__`), so a class
defined later is found as Rasa would find it. Names no class has (the old "topic", unknown
names) take Rasa's own function, with its default and its error.
"""

from __future__ import annotations

import weakref
from typing import Any


def _walked_index(event_class: Any) -> dict[str, Any]:
    from rasa.shared.utils.common import all_subclasses

    index: dict[str, Any] = {}
    for subclass in all_subclasses(event_class):  # Rasa's order: the first one wins
        index.setdefault(subclass.type_name, subclass)
    return index


def install_event_type_index() -> None:
    from rasa.shared.core.events import Event

    rasa_resolve = Event.__dict__["resolve_by_type"].__func__
    if getattr(rasa_resolve, "uses_index", False):
        return
    # weak: a class that is gone (a test's, a plugin's) is not kept alive by the index
    index: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()

    def resolve_by_type(type_name: str, default: Any = None) -> Any:
        found = index.get(type_name)
        if found is None:
            index.clear()
            index.update(_walked_index(Event))
            found = index.get(type_name)
        return found if found is not None else rasa_resolve(type_name, default)

    rasa_init_subclass = Event.__dict__.get("__init_subclass__")

    def __init_subclass__(cls: Any, **kwargs: Any) -> None:
        index.clear()  # a class the index has not seen: the next lookup walks again
        if rasa_init_subclass is not None:
            rasa_init_subclass.__func__(cls, **kwargs)
        else:
            super(Event, cls).__init_subclass__(**kwargs)

    resolve_by_type.uses_index = True  # type: ignore[attr-defined]
    Event.__init_subclass__ = classmethod(__init_subclass__)  # type: ignore[assignment]
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign,assignment]
