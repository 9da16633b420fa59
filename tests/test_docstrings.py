"""torch-style docstrings -> Markdown: sections, roles, literals and math, nothing leaked."""

from __future__ import annotations

import inspect
import re

import markdown

from docgen.site.docstrings import docstring_markdown, inline, latex_to_mathml, summary_markdown

LOG_SOFTMAX = inspect.cleandoc(r"""
    Applies the :math:`\log(\text{Softmax}(x))` function to an n-dimensional input Tensor.

    The LogSoftmax formulation can be simplified as:

    .. math::
        \text{LogSoftmax}(x_{i}) = \log\left(\frac{\exp(x_i) }{ \sum_j \exp(x_j)} \right)

    Shape:
        - Input: :math:`(*)` where `*` means, any number of additional
          dimensions
        - Output: :math:`(*)`, same shape as the input

    Args:
        dim (int): A dimension along which LogSoftmax will be computed.
        weight (Tensor, optional): a manual rescaling weight given to each
            class. If given, has to be a Tensor of size `C`

    Returns:
        a Tensor of the same dimension and shape as the input with
        values in the range [-inf, 0)

    .. note::
        Use ``register_load_state_dict_pre_hook`` before :meth:`~torch.nn.Module.load_state_dict`.

    Examples::

        >>> m = nn.LogSoftmax(dim=1)
        >>> output = m(torch.randn(2, 3))
""")


def _html(md: str) -> str:
    return markdown.markdown(md, extensions=["admonition", "md_in_html", "fenced_code",
                                             "tables"])


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def test_sections_become_titled_lists_and_code() -> None:
    md = docstring_markdown(LOG_SOFTMAX)
    html = _html(md)
    assert "<strong>Args</strong>" in html and "<strong>Shape</strong>" in html
    # each argument is a list item with its name as code and its type
    items = re.findall(r"<li>(.*?)</li>", html, re.S)
    assert any(i.startswith("<code>dim</code> (int): A dimension") for i in items)
    weight = next(i for i in items if i.startswith("<code>weight</code>"))
    assert "has to be a Tensor of size <code>C</code>" in weight  # continuation joined
    # the examples are one fenced block, the prompt kept
    assert '<code class="language-pycon">&gt;&gt;&gt; m = nn.LogSoftmax(dim=1)' in html
    assert '<div class="admonition note">' in html


def test_nothing_of_the_markup_leaks() -> None:
    text = _text(_html(docstring_markdown(LOG_SOFTMAX)))
    for leaked in ("\\log", "\\text", ":math:", ":meth:", "``", ".. note", ".. math", "Examples::"):
        assert leaked not in text, leaked
    # the literal stays whole (no break inside a name) and the ~ role keeps the last name
    assert "register_load_state_dict_pre_hook before load_state_dict" in " ".join(text.split())


def test_math_is_mathml_built_here_without_any_script() -> None:
    md = docstring_markdown(LOG_SOFTMAX)
    html = _html(md)
    assert html.count('display="block"') == 1
    assert html.count('display="inline"') >= 3
    assert "<script" not in html and "http" not in html.replace(
        "http://www.w3.org/1998/Math/MathML", "")
    block = latex_to_mathml(r"\frac{a_1}{b^*}", block=True)
    # Markdown punctuation inside MathML is entity-encoded, so no emphasis can form
    assert "*" not in block and "_" not in block
    assert "<mfrac>" in _html(block)


def test_injected_markup_is_text() -> None:
    md = docstring_markdown("Hello <script>alert(1)</script> ``<b>`` {{ x }}\n\nArgs:\n"
                            "    a (<i>int</i>): *x* | y")
    html = _html(md)
    assert "<script>" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;" in html and "{{" not in md


def test_roles_link_known_classes() -> None:
    links = {"torch.nn.Conv2d": "conv2d.html"}
    out = inline("See :class:`torch.nn.Conv2d` and :class:`~torch.nn.Linear`.", links.get)
    assert out == "See [<code>torch.nn.Conv2d</code>](conv2d.html) and <code>Linear</code>."


def test_a_list_after_a_paragraph_gets_its_blank_line() -> None:
    md = docstring_markdown("The parameters can be:\n    - a single int\n    - a tuple\n")
    assert "<ul>" in _html(md) and "<code>" not in _html(md)


def test_fragments_replace_their_placeholder_and_never_climb_out() -> None:
    from docgen.site.fragments import fragment_path, inject, placeholder

    path = fragment_path("classes/a.B.md", "inherited-methods")
    html = f"<p>x</p>{placeholder('classes/a.B.md', path)}<p>y</p>"
    files = {f"gen/{path}": "<table>T</table>"}
    assert inject(html, "gen/classes/a.B.md", files.get) == "<p>x</p><table>T</table><p>y</p>"
    evil = '<div class="docgen-fragment" data-fragment="../../../etc/passwd.html"></div>'
    assert inject(evil, "gen/classes/a.B.md", lambda p: "LEAK") == evil


def test_evaluated_arguments_pair_positions_and_keywords() -> None:
    from docgen.models.composition import evaluated_arguments

    values = (("in_features", "9216"), ("out_features", "4096"), ("bias", "True"))
    assert evaluated_arguments("256 * 6 * 6, 4096", values) == [
        ("in_features", "256 * 6 * 6", "9216")]
    assert evaluated_arguments("p=dropout", (("p", "0.5"), ("inplace", "False"))) == [
        ("p", "dropout", "0.5")]
    assert evaluated_arguments("f(a, b), k=[1, 2]", (("x", "3"), ("k", "[1, 2]"))) == [
        ("x", "f(a, b)", "3")]
    assert evaluated_arguments("num_classes", ()) == []


# torch's own shapes of math the converter met in the default site and let through:
# a `.. math::` block inside an Args entry (LayerNorm, RMSNorm, PoissonNLLLoss), the
# directive written `.. math ::` (PairwiseDistance, CosineSimilarity), and a `:math:` role
# wrapped over two lines, the second starting with `+` (AvgPool1d/2d/3d).
MATH_SHAPES = inspect.cleandoc(r"""
    Pairwise distance, i.e.:

    .. math ::
        \Vert x \Vert _p = \left( \sum_{i=1}^n \vert x_i \vert ^ p \right) ^ {1/p}.

    Args:
        normalized_shape (int or list): input shape from an expected input
            of size

            .. math::
                [* \times \text{normalized\_shape}[0]]

            If a single integer is used, it is a singleton list.
        eps: a value added for numerical stability. Default: 1e-5

    Note:
        If ``ceil_mode`` is True and :math:`(L_{out} - 1) \times \text{stride} \geq L_{in}
        + \text{padding}`, we skip the last window.

    - a real bullet
    - another one
    """)


def test_math_inside_arguments_and_wrapped_roles_is_converted() -> None:
    html = _html(docstring_markdown(MATH_SHAPES))
    text = _text(html)
    for leaked in ("\\text", "\\Vert", ".. math", ":math:", "``"):
        assert leaked not in text, leaked
    assert html.count('display="block"') == 2 and html.count('display="inline"') == 1
    assert "<mo>&#x0002B;</mo><mtext>padding</mtext>" in html  # the wrapped `+` kept
    assert "If a single integer is used" in text and "eps" in text
    assert html.count("<li>") == 4  # two arguments, two real bullets


def test_summaries_show_math_as_the_docstring_does() -> None:
    line = r"Applies the :math:`\log(\text{Softmax}(x))` function to a ``Tensor`` | x."
    md = summary_markdown(line)
    assert '<math display="inline">' in md and "\\log" not in md and "\\text" not in md
    assert "<code>Tensor</code>" in md and "|" not in md.replace("&#124;", "")
