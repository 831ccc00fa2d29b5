/// Go's text/tabwriter, which lays out every kubectl table and `kubectl describe`: text is cut into
/// cells at tabs, and each column of a block of consecutive lines that have a cell there is as wide as
/// its widest cell plus the padding. The last cell of a line (the text after its last tab) belongs to no
/// column, so a line without tabs ends every block. Widths count Unicode scalars, as Go counts runes.
///
/// kubectl uses two settings: `describe` pads 2 (`tabwriter.NewWriter(buf, 0, 8, 2, ' ', 0)`), tables
/// pad 3 with a minimum width of 6 (`printers.GetNewTabWriter`).
public struct TabWriter: Sendable {
    public var minWidth: Int
    public var padding: Int
    private var pending = ""
    private var output = ""

    public init(minWidth: Int = 0, padding: Int = 2) {
        self.minWidth = minWidth
        self.padding = padding
    }

    /// kubectl describe's layout.
    public static var describe: TabWriter { TabWriter(minWidth: 0, padding: 2) }
    /// kubectl get's table layout.
    public static var table: TabWriter { TabWriter(minWidth: 6, padding: 3) }

    public mutating func write(_ text: String) { pending += text }

    /// Lays out what was written so far on its own: blocks never continue across a flush.
    public mutating func flush() {
        output += Self.layout(pending, minWidth: minWidth, padding: padding)
        pending = ""
    }

    /// Everything written, laid out.
    public mutating func finish() -> String {
        flush()
        return output
    }

    /// Lays out one flushed text.
    public static func layout(_ text: String, minWidth: Int, padding: Int) -> String {
        if text.isEmpty { return "" }
        // Every line but the last ended with a newline; the last holds whatever followed the final one.
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        }
        var out = ""
        var widths: [Int] = []
        format(lines, 0, lines.count, &widths, minWidth: minWidth, padding: padding, into: &out)
        return out
    }

    /// tabwriter's format(): finds the block of lines that have a cell in the next column, sizes that
    /// column over the block, and recurses for the columns to its right within the block.
    private static func format(_ lines: [[String]], _ first: Int, _ end: Int, _ widths: inout [Int],
                               minWidth: Int, padding: Int, into out: inout String) {
        let column = widths.count
        var line0 = first
        var this = first
        while this < end {
            // A cell in this column exists only if the line has a cell after it (it is tab-terminated).
            if column >= lines[this].count - 1 { this += 1; continue }
            write(lines, line0, this, widths, into: &out)
            line0 = this
            var width = minWidth
            while this < end, column < lines[this].count - 1 {
                width = max(width, lines[this][column].unicodeScalars.count + padding)
                this += 1
            }
            widths.append(width)
            format(lines, line0, this, &widths, minWidth: minWidth, padding: padding, into: &out)
            widths.removeLast()
            line0 = this
        }
        write(lines, line0, end, widths, into: &out)
    }

    private static func write(_ lines: [[String]], _ from: Int, _ to: Int, _ widths: [Int], into out: inout String) {
        guard from < to else { return }
        for i in from..<to {
            for (j, cell) in lines[i].enumerated() {
                out += cell
                if j < widths.count {
                    out += String(repeating: " ", count: max(widths[j] - cell.unicodeScalars.count, 0))
                }
            }
            // The last line is what followed the final newline: it gets none of its own.
            if i + 1 < lines.count { out += "\n" }
        }
    }
}

/// kubectl describe's PrefixWriter: each Write is indented two spaces per level; lines go through one
/// TabWriter so `Label:\tvalue` pairs of consecutive lines align.
public struct DescribeWriter: Sendable {
    private var tab = TabWriter.describe

    public init() {}

    public mutating func write(_ level: Int, _ text: String) {
        tab.write(String(repeating: "  ", count: level) + text)
    }

    /// kubectl's WriteLine: the text and a newline, not indented.
    public mutating func line(_ text: String = "") { tab.write(text + "\n") }

    public mutating func flush() { tab.flush() }

    public mutating func finish() -> String { tab.finish() }
}
