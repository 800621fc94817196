"""One kind of finding shared by every check of the build (SHACL, integrity queries, coverage,
consistency), so that a failed build prints one line per problem in one format."""

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """A single violation: which rule, on which node, and what is wrong."""

    rule: str
    focus: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.focus}: {self.message}"


class BuildFailed(Exception):
    """Raised when a build or validation finds problems; carries every one of them."""

    def __init__(self, stage: str, problems: list[Problem]) -> None:
        self.stage = stage
        self.problems = sorted(problems)
        super().__init__(f"{stage}: {len(problems)} problem(s)")

    def report(self) -> str:
        lines = [f"{self.stage} failed with {len(self.problems)} problem(s):"]
        lines.extend(f"  {problem}" for problem in self.problems)
        return "\n".join(lines)
