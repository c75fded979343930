//! One table of strings, rendered as a Markdown pipe table, CSV or aligned
//! plain text.

/// A table of display strings. Rows shorter than the headers are padded with
/// empty cells when rendered; longer rows widen the table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    /// Column titles.
    pub headers: Vec<String>,
    /// Cells, row by row.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these column titles.
    pub fn new(headers: Vec<String>) -> Self {
        Table {
            headers,
            rows: Vec::new(),
        }
    }

    /// Appends a row.
    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    /// Number of columns: the longest of the header and the rows.
    fn columns(&self) -> usize {
        self.rows
            .iter()
            .map(Vec::len)
            .chain([self.headers.len()])
            .max()
            .unwrap_or(0)
    }

    /// The header and rows, each padded to `columns` cells, with every cell
    /// passed through `cell`.
    fn grid(&self, cell: impl Fn(&str) -> String) -> Vec<Vec<String>> {
        let n = self.columns();
        std::iter::once(&self.headers)
            .chain(&self.rows)
            .map(|row| {
                (0..n)
                    .map(|i| cell(row.get(i).map_or("", String::as_str)))
                    .collect()
            })
            .collect()
    }

    /// Whether each column is numeric-looking: every body cell is a number or
    /// blank (see [`looks_numeric`]) and at least one is a number.
    fn numeric_columns(&self) -> Vec<bool> {
        (0..self.columns())
            .map(|i| {
                let mut any = false;
                for row in &self.rows {
                    match row.get(i).map_or(Some(false), |c| looks_numeric(c)) {
                        Some(true) => any = true,
                        Some(false) => {}
                        None => return false,
                    }
                }
                any
            })
            .collect()
    }

    /// A GitHub pipe table. `|` in a cell is written `\|`, line breaks become
    /// spaces, columns are padded to a common width, and numeric-looking
    /// columns are right-aligned (`---:`). A table without columns renders
    /// as the empty string.
    pub fn to_markdown(&self) -> String {
        let grid = self.grid(|c| one_line(c).replace('|', "\\|"));
        let numeric = self.numeric_columns();
        let mut widths = column_widths(&grid);
        for w in &mut widths {
            *w = (*w).max(3);
        }
        if widths.is_empty() {
            return String::new();
        }
        let mut out = String::new();
        let mut line = |cells: &[String]| {
            out.push('|');
            for (i, cell) in cells.iter().enumerate() {
                out.push(' ');
                out.push_str(&pad(cell, widths[i], numeric[i]));
                out.push_str(" |");
            }
            out.push('\n');
        };
        let mut rows = grid.iter();
        if let Some(header) = rows.next() {
            line(header);
        }
        let rule: Vec<String> = widths
            .iter()
            .zip(&numeric)
            .map(|(&w, &right)| {
                if right {
                    format!("{}:", "-".repeat(w - 1))
                } else {
                    "-".repeat(w)
                }
            })
            .collect();
        line(&rule);
        for row in rows {
            line(row);
        }
        out
    }

    /// RFC 4180 CSV with `\n` line ends. A cell is quoted when it contains
    /// `,`, `"`, `\n` or `\r` or starts or ends with a space; quotes inside
    /// are doubled. A table without columns renders as the empty string.
    pub fn to_csv(&self) -> String {
        if self.columns() == 0 {
            return String::new();
        }
        let mut out = String::new();
        for row in self.grid(csv_cell) {
            out.push_str(&row.join(","));
            out.push('\n');
        }
        out
    }

    /// Aligned plain text: the header line, then the rows; columns separated
    /// by two spaces, widths counted in chars, numeric-looking columns
    /// right-aligned, line breaks in cells shown as spaces, and no trailing
    /// spaces. A table without columns renders as the empty string.
    pub fn to_plain(&self) -> String {
        if self.columns() == 0 {
            return String::new();
        }
        let grid = self.grid(one_line);
        let numeric = self.numeric_columns();
        let widths = column_widths(&grid);
        let mut out = String::new();
        for row in &grid {
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(i, c)| pad(c, widths[i], numeric[i]))
                .collect();
            out.push_str(cells.join("  ").trim_end());
            out.push('\n');
        }
        out
    }
}

/// Whether a cell counts as a number when choosing column alignment:
/// `Some(true)` for a number (after dropping Markdown bold `**…**` and a
/// trailing ` ★` best marker), `Some(false)` for a blank or a placeholder
/// (`-`, `–`), `None` for anything else.
pub fn looks_numeric(cell: &str) -> Option<bool> {
    let s = cell.trim().trim_end_matches('★').trim();
    let s = s
        .strip_prefix("**")
        .and_then(|s| s.strip_suffix("**"))
        .unwrap_or(s)
        .trim();
    if s.is_empty() || s == "-" || s == "–" {
        Some(false)
    } else if s.parse::<f64>().is_ok() {
        Some(true)
    } else {
        None
    }
}

/// Line breaks (`\r\n`, `\n`, `\r`) as single spaces.
fn one_line(s: &str) -> String {
    s.replace("\r\n", " ").replace(['\n', '\r'], " ")
}

fn column_widths(grid: &[Vec<String>]) -> Vec<usize> {
    let n = grid.first().map_or(0, Vec::len);
    (0..n)
        .map(|i| grid.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect()
}

fn pad(cell: &str, width: usize, right: bool) -> String {
    let fill = " ".repeat(width.saturating_sub(cell.chars().count()));
    if right {
        format!("{fill}{cell}")
    } else {
        format!("{cell}{fill}")
    }
}

fn csv_cell(cell: &str) -> String {
    let quote =
        cell.contains([',', '"', '\n', '\r']) || cell.starts_with(' ') || cell.ends_with(' ');
    if quote {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| c.to_string()).collect()
    }

    fn sample() -> Table {
        let mut t = Table::new(s(&["name", "loss", "note"]));
        t.push(s(&["run-a", "0.5", "ok"]));
        t.push(s(&["b", "12.25", "a|b"]));
        t.push(s(&["c"]));
        t
    }

    #[test]
    fn markdown_pads_escapes_and_right_aligns_numbers() {
        let want = "\
| name  |  loss | note |
| ----- | ----: | ---- |
| run-a |   0.5 | ok   |
| b     | 12.25 | a\\|b |
| c     |       |      |
";
        assert_eq!(sample().to_markdown(), want);
    }

    #[test]
    fn markdown_newlines_become_spaces() {
        let mut t = Table::new(s(&["k"]));
        t.push(s(&["a\nb\r\nc"]));
        assert_eq!(t.to_markdown(), "| k     |\n| ----- |\n| a b c |\n");
    }

    #[test]
    fn markdown_numeric_detection_ignores_markers() {
        let mut t = Table::new(s(&["", "x"]));
        t.push(s(&["a", "**0.5** ★"]));
        t.push(s(&["b", "–"]));
        t.push(s(&["c", "1e-06"]));
        assert!(t.to_markdown().contains("| --- | --------: |"));
        assert_eq!(looks_numeric("NaN"), Some(true));
        assert_eq!(looks_numeric("-inf"), Some(true));
        assert_eq!(looks_numeric("abc"), None);
        assert_eq!(looks_numeric(" "), Some(false));
    }

    #[test]
    fn column_without_numbers_is_left_aligned() {
        let mut t = Table::new(s(&["a"]));
        t.push(s(&["-"]));
        assert_eq!(t.to_markdown(), "| a   |\n| --- |\n| -   |\n");
    }

    #[test]
    fn empty_tables() {
        assert_eq!(Table::new(vec![]).to_markdown(), "");
        assert_eq!(Table::new(vec![]).to_plain(), "");
        assert_eq!(Table::new(vec![]).to_csv(), "");
        assert_eq!(Table::new(s(&["a", "b"])).to_csv(), "a,b\n");
    }

    #[test]
    fn csv_quotes_per_rfc4180() {
        let mut t = Table::new(s(&["a", "b"]));
        t.push(s(&["x,y", "say \"hi\""]));
        t.push(s(&["line\nbreak", "cr\r"]));
        t.push(s(&[" lead", "trail "]));
        t.push(s(&["in side", ""]));
        t.push(s(&["short"]));
        let want = "a,b\n\"x,y\",\"say \"\"hi\"\"\"\n\"line\nbreak\",\"cr\r\"\n\" lead\",\"trail \"\nin side,\nshort,\n";
        assert_eq!(t.to_csv(), want);
    }

    #[test]
    fn plain_aligns_without_trailing_spaces() {
        let want = "\
name    loss  note
run-a    0.5  ok
b      12.25  a|b
c
";
        assert_eq!(sample().to_plain(), want);
    }

    #[test]
    fn plain_counts_chars_not_bytes() {
        let mut t = Table::new(s(&["ключ", "v"]));
        t.push(s(&["é", "x"]));
        assert_eq!(t.to_plain(), "ключ  v\né     x\n");
    }

    #[test]
    fn longer_rows_widen_the_table() {
        let mut t = Table::new(s(&["a"]));
        t.push(s(&["1", "extra"]));
        assert_eq!(t.to_csv(), "a,\n1,extra\n");
        assert_eq!(
            t.to_markdown(),
            "|   a |       |\n| --: | ----- |\n|   1 | extra |\n"
        );
    }
}
