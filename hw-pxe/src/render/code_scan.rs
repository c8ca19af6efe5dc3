//! The one check hw-pxe makes on a template's code before minijinja parses it:
//! no `*`. minijinja folds constant expressions while it compiles a template, so
//! `{{ "ab" * 99999999 }}` builds a 200 MB string before anything is rendered —
//! parsing alone is unbounded (found by the `pxe_template` fuzz target: 0.75 s and
//! 268 MiB for a 60-byte template). `*` is multiplication, string and list
//! repetition and, doubled, a power; no boot configuration needs them (Ironic's
//! templates use none), so a template whose code holds one is refused.

/// Where a template's code uses `*`: its 1-based line, or `None` when it uses
/// none. Code is what lies between `{{ }}` and `{% %}` (outside string literals);
/// text, `{# #}` comments and `{% raw %}` blocks are not code.
pub(super) fn first_star(template: &str) -> Option<usize> {
    let b = template.as_bytes();
    let line_at = |i: usize| 1 + b[..i].iter().filter(|&&c| c == b'\n').count();
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] != b'{' {
            i += 1;
            continue;
        }
        match b[i + 1] {
            b'#' => i = find(b, i + 2, b"#}").map_or(b.len(), |e| e + 2),
            b'{' | b'%' => {
                let close: &[u8] = if b[i + 1] == b'{' { b"}}" } else { b"%}" };
                let start = i + 2;
                if b[i + 1] == b'%' && opens_raw(&b[start..]) {
                    i = end_of_raw(b, start);
                    continue;
                }
                match scan_code(b, start, close) {
                    Ok(end) => i = end,
                    Err(star) => return Some(line_at(star)),
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// Scans code from `start` to its `close` delimiter (outside string literals):
/// `Ok(index after it)`, or `Err(index of a '*')`. Unclosed code ends the text.
fn scan_code(b: &[u8], start: usize, close: &[u8]) -> Result<usize, usize> {
    let mut i = start;
    let mut quote: Option<u8> = None;
    while i < b.len() {
        let c = b[i];
        match quote {
            Some(q) => {
                if c == b'\\' {
                    i += 1;
                } else if c == q {
                    quote = None;
                }
            }
            None => {
                if c == b'*' {
                    return Err(i);
                }
                if c == b'"' || c == b'\'' {
                    quote = Some(c);
                } else if b[i..].starts_with(close) {
                    return Ok(i + close.len());
                }
            }
        }
        i += 1;
    }
    Ok(b.len())
}

/// Whether a `{%` tag's body starts with the `raw` keyword (after `-`/`+` and
/// spaces).
fn opens_raw(body: &[u8]) -> bool {
    let rest = body
        .iter()
        .position(|c| !matches!(c, b'-' | b'+' | b' ' | b'\t' | b'\r' | b'\n'))
        .map_or(&[][..], |p| &body[p..]);
    rest.starts_with(b"raw")
        && rest
            .get(3)
            .is_none_or(|c| !c.is_ascii_alphanumeric() && *c != b'_')
}

/// The index after the `{% endraw %}` that closes a raw block whose opening tag's
/// body starts at `start` (the end of the text when it is never closed).
fn end_of_raw(b: &[u8], start: usize) -> usize {
    let Some(open_end) = find(b, start, b"%}") else {
        return b.len();
    };
    let mut i = open_end + 2;
    while let Some(tag) = find(b, i, b"{%") {
        let body = &b[tag + 2..];
        let word = body
            .iter()
            .position(|c| !matches!(c, b'-' | b'+' | b' ' | b'\t' | b'\r' | b'\n'))
            .map_or(&[][..], |p| &body[p..]);
        if word.starts_with(b"endraw") {
            return find(b, tag + 2, b"%}").map_or(b.len(), |e| e + 2);
        }
        i = tag + 2;
    }
    b.len()
}

fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    b.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

#[cfg(test)]
mod tests {
    use super::first_star;

    #[test]
    fn a_star_in_code_is_found_with_its_line() {
        assert_eq!(first_star("a\n{{ \"ab\" * 99999999 }}"), Some(2));
        assert_eq!(first_star("{% set x = 2 ** 64 %}"), Some(1));
        assert_eq!(first_star("{%- if a %}\n\n{{ b*c }}{% endif %}"), Some(3));
        assert_eq!(first_star("{{ 'a' }}{{ [1] * 3 }}"), Some(1));
    }

    #[test]
    fn a_star_outside_code_is_not() {
        for t in [
            "kernel * text {# a * comment #} more",
            "{{ 'a*b' ~ \"c*\\\"*\" }}",
            "{% raw %}{{ 2 * 3 }}{% endraw %} after",
            "{%- raw -%} * {%- endraw %}",
            "append initrd=* {{ pxe_options.x }}",
            "{{ x }",
        ] {
            assert_eq!(first_star(t), None, "{t}");
        }
        // After a raw block, code is code again.
        assert_eq!(first_star("{% raw %}*{% endraw %}{{ 2*2 }}"), Some(1));
    }
}
