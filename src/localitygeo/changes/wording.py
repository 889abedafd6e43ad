"""Words for the impact summary and report: layer nouns, plurals and people.

An officer reads "88 small areas move to another neighbourhood", not
"88 small_area block(s) change neighbourhood": layers are named by their
manifest titles (``title = "Small areas"``), counted with proper plurals, and
people are whole numbers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from localitygeo.changes.assessment import Impact

#: Layer keys and title words that are acronyms, written in capitals (LSOA, not lsoa).
_ACRONYMS = {"oa", "lsoa", "msoa", "soa", "lad", "lpa", "dz", "iz", "ccg", "pcn", "ltla", "utla"}
_VOWELS = set("aeiou")


def _word(w: str) -> str:
    if w.lower() in _ACRONYMS:
        return w.upper()
    return w if sum(c.isupper() for c in w) >= 2 else w.lower()


def nouns(title: str) -> tuple[str, str]:
    """Return the singular and plural noun for a layer title, as used in a sentence.

    Parameters
    ----------
    title : str
        A manifest title (``"Small areas"``, ``"Localities"``, ``"LSOAs"``) or a
        readable layer key (``"ward"``, ``"lsoa"``).

    Returns
    -------
    tuple of str
        E.g. ``("small area", "small areas")``, ``("locality", "localities")``,
        ``("LSOA", "LSOAs")``. Acronyms keep (or get) their capitals; other words
        are lower case.

    Examples
    --------
    >>> nouns("Neighbourhoods"), nouns("lsoa")
    (('neighbourhood', 'neighbourhoods'), ('LSOA', 'LSOAs'))
    """
    words = [_word(w) for w in title.split()]
    if not words:
        return "unit", "units"
    *head, last = words
    low = last.lower()
    if low.endswith("ies") and len(last) > 3:
        one, many = last[:-3] + "y", last
    elif low.endswith(("shes", "ches", "xes", "sses", "zes")):
        one, many = last[:-2], last
    elif low.endswith(("sh", "ch", "x", "ss", "z")):
        one, many = last, last + "es"
    elif low.endswith("s") and len(last) > 1:
        one, many = last[:-1], last
    elif low.endswith("y") and len(last) > 1 and low[-2] not in _VOWELS:
        one, many = last, last[:-1] + "ies"
    else:
        one, many = last, last + "s"
    prefix = " ".join(head) + " " if head else ""
    return prefix + one, prefix + many


def count(n: float, one: str, many: str) -> str:
    """Return ``"1 ward"`` or ``"1,204 wards"``: a whole count with its noun."""
    return f"{n:,.0f} {one if round(n) == 1 else many}"


def people(x: float, *, signed: bool = False) -> str:
    """Return a number of people as a whole number: ``"1 person"``, ``"+1,204 people"``."""
    number = f"{x:+,.0f}" if signed else f"{x:,.0f}"
    return f"{number} {'person' if abs(round(x)) == 1 else 'people'}"


def unit_label(code: object, name: object) -> str:
    """Return ``"Eastmouth Central (EXN01)"``, or the code when the unit has no name."""
    if name is None or pd.isna(name):
        return str(code)
    return str(code) if str(name) == str(code) else f"{name} ({code})"


def _balance(im: Impact, key: str, threshold: float) -> str | None:
    """Return the sentence on the population balance of ``key``, warning if it worsens."""
    t = im.units[key]
    one, many = nouns(im.titles.get(key, key))
    sides = []
    for side in ("before", "after"):
        dev = t[f"deviation_{side}"].dropna().abs()
        if dev.empty:
            return None
        sides.append((int((dev > threshold).sum()), len(dev), float(dev.max())))
    (off_b, n_b, max_b), (off_a, n_a, max_a) = sides
    share_b, share_a = off_b / n_b, off_a / n_a
    detail = (
        f"{off_b:,} of {count(n_b, one, many)} ({share_b:.0%}) "
        f"{'is' if off_b == 1 else 'are'} more than {threshold:.0%} from the average "
        f"population before, {off_a:,} of {n_a:,} ({share_a:.0%}) after; the largest "
        f"deviation is {max_b:.0%} before, {max_a:.0%} after."
    )
    eps = 1e-9
    if share_a > share_b + eps:
        return f"Warning: population balance of {many} gets worse: {detail}"
    if max_a > max_b + eps:
        return (
            f"Warning: the most unbalanced {one} is further from the average population "
            f"after the change: {detail}"
        )
    if share_a < share_b - eps or max_a < max_b - eps:
        return f"Population balance of {many} improves: {detail}"
    return f"Population balance of {many} is unchanged: {detail}"


def _largest(im: Impact, key: str) -> str | None:
    t = im.units[key]
    top = t[t["status"] != "unchanged"]
    top = top.reindex(top["population_change"].abs().sort_values(ascending=False).index)
    items = []
    for code, row in top.head(3).iterrows():
        pct = row["population_change_pct"]
        what = "new" if row["status"] == "new" else f"{pct:+.1f}%" if not pd.isna(pct) else "–"
        items.append(
            f"{unit_label(code, row['name'])} {people(row['population_change'], signed=True)} "
            f"({what})"
        )
    if not items:
        return None
    return f"Largest changes in {nouns(im.titles.get(key, key))[1]}: {'; '.join(items)}."


def straddle_line(im_titles: dict[str, str], layer: str, blocks: str, parent: str, n: int) -> str:
    """Explain units still not nested by area because ``n`` blocks straddle ``parent`` units."""
    bs, bp = nouns(im_titles.get(blocks, blocks))
    ps = nouns(im_titles.get(parent, parent))[0]
    lp = nouns(im_titles.get(layer, layer))[1]
    verb = "itself lies" if n == 1 else "themselves lie"
    return (
        f"{count(n, bs, bp)} {verb} in more than one {ps} (validate's block-straddles): "
        f'judged by area, {lp} holding them cannot nest; a rule with by = "blocks" counts '
        f"each {bs} wholly in its best-fit {ps}."
    )


def _start(title: str, many: str) -> str:
    """Return the plural to start a sentence: the title as written if capitalised."""
    return title if title[:1].isupper() else many[:1].upper() + many[1:]


def summary(
    im: Impact,
    total_pop: float,
    explain: list[str],
    rules: dict[tuple[str, str], str],
    threshold: float,
) -> list[str]:
    """Return the plain-English summary of an impact, most important first.

    Parameters
    ----------
    im : Impact
        With every field but ``summary`` filled.
    total_pop : float
        People in all the blocks (for the moved share).
    explain : list of str
        Further sentences (blocks that straddle a parent).
    rules : dict
        Per (layer, parent), how validate judges the nesting rule
        (``"by area, tolerance 0.01"``).
    threshold : float
        The relative deviation from the mean beyond which a unit is out of balance.

    Returns
    -------
    list of str
        Sentences; one warning per layer whose population balance gets worse.
    """
    bs, bp = nouns(im.titles.get(im.finest, im.finest))
    if im.moved.empty:
        return [f"'{im.name}' changes no boundary: no {bs} moves."]
    out: list[str] = []
    for key in im.layers:
        one, many = nouns(im.titles.get(key, key))
        mv = im.moved[im.moved["layer"] == key]
        t = im.units[key]
        if mv.empty:
            out.append(f"No {bs} moves to another {one}.")
            continue
        counts = t["status"].value_counts()
        changed, existing = int(counts.get("changed", 0)), int((t["status"] != "new").sum())
        moved_people = float(mv["population"].sum())
        text = f"{count(len(mv), bs, bp)} {'moves' if len(mv) == 1 else 'move'} to another {one}"
        if im.population and total_pop > 0:
            text += (
                f", with {people(moved_people)} "
                f"({100 * moved_people / total_pop:.1f}% of the population)"
            )
        text += (
            f"; {changed:,} of {count(existing, one, many)} "
            f"{'changes' if changed == 1 else 'change'}"
        )
        extra = [f"{int(counts[s]):,} {s}" for s in ("new", "removed") if counts.get(s, 0)]
        out.append(text + (f" ({', '.join(extra)})" if extra else "") + ".")
        if im.population:
            for line in (_balance(im, key, threshold), _largest(im, key)):
                if line:
                    out.append(line)
    for row in im.metrics.itertuples():
        mid, layer = str(row.id), str(row.layer)
        many = nouns(im.titles.get(layer, layer))[1]
        if mid.startswith("split:") and row.before != row.after:
            parent = mid.split(":", 1)[1]
            ps = nouns(im.titles.get(parent, parent))[0]
            basis = rules.get((layer, parent), "")
            out.append(
                f"{_start(im.titles.get(layer, layer), many)} not within one {ps}, as "
                f"validate judges the "
                f"nesting rule ({basis}): {row.before:,.0f} before, {row.after:,.0f} after."
            )
        elif mid.startswith("between_share:"):
            column = mid.split(":", 1)[1].replace("_", " ")
            out.append(
                f"Of the inequality in {column}, {100 * row.before:.1f}% lies between {many} "
                f"before, {100 * row.after:.1f}% after."
            )
    out.extend(explain)
    if im.population is None:
        out.append(
            f"The {bp} have no population column: population measures are left out "
            "(nobody is counted, not zero people)."
        )
    return out
