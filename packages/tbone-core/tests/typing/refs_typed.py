"""Checked by mypy --strict in test_typing_refs.py: ``Ref`` fields and ``@action`` methods are
typed the way users write them. Lines marked ``type: ignore[...]`` MUST be errors."""

from __future__ import annotations

from typing import Any, assert_type

from tbone import Context, Model, Ref, Resource, action, field


class Writer(Model):
    name: str


class Novel(Model):
    title: str
    writer: Ref[Writer]
    editors: list[Ref[Writer]] = field(factory=list)
    sequel_of: Ref[Novel] | None = None
    votes: int = 0


class Vote(Model, embedded=True):
    stars: int = field(ge=1, le=5)


class NovelResource(Resource[Novel]):
    model = Novel

    @action(detail=True, methods=["POST"], input=Vote)
    async def vote(self, ctx: Context, obj: Novel, data: Vote) -> Novel:
        return await self.change(obj.id, inc={"votes": 1})

    @action
    async def count(self, ctx: Context, data: Any) -> int:
        return await self.collection.count()


def build(writer: Writer) -> Novel:
    novel = Novel(title="Earthsea", writer=writer.id, editors=[writer.id])
    assert_type(novel.writer, Any)  # a key of whatever type the target's key has
    assert_type(novel.sequel_of, Any | None)
    return novel


async def use(resource: NovelResource, ctx: Context, novel: Novel) -> None:
    voted = await resource.vote(ctx, novel, Vote(stars=5))  # the method stays a method
    assert_type(voted, Novel)
    assert_type(await resource.count(ctx, None), int)
    await resource.call("vote", novel.id, {"stars": 5}, ctx)
    await resource.vote(ctx, novel)  # type: ignore[call-arg]
