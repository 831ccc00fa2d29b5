/// ListVolumes pages. A token names the last volume id of the page before (`cairn1:` and its UTF-8
/// in hex), and the next page starts after that id in sorted order: a volume deleted between pages
/// (even the one the token names) never breaks the listing, a volume added is seen if it sorts later,
/// and no volume is listed twice.
public enum Pagination {
    static let prefix = "cairn1:"

    public struct Page: Equatable, Sendable {
        public var range: Range<Int>
        public var nextToken: String
    }

    /// The page of `sortedIDs` that a request asks for.
    public static func page(sortedIDs: [String], maxEntries: Int32, startingToken: String) -> Result<Page, CSIFailure> {
        if maxEntries < 0 {
            return .failure(.invalid("max_entries", "\(maxEntries) is negative; use 0 for no limit"))
        }
        var start = 0
        if !startingToken.isEmpty {
            guard let after = decode(startingToken) else {
                return .failure(CSIFailure(.aborted,
                    "starting_token \"\(startingToken)\" was not issued by this driver; start again with an empty token"))
            }
            start = sortedIDs.firstIndex { $0 > after } ?? sortedIDs.count
        }
        let end = maxEntries == 0 ? sortedIDs.count : min(sortedIDs.count, start + Int(maxEntries))
        let next = end < sortedIDs.count && end > start ? encode(sortedIDs[end - 1]) : ""
        return .success(Page(range: start..<end, nextToken: next))
    }

    static func encode(_ id: String) -> String {
        prefix + id.utf8.map { b in b < 16 ? "0" + String(b, radix: 16) : String(b, radix: 16) }.joined()
    }

    static func decode(_ token: String) -> String? {
        guard token.hasPrefix(prefix) else { return nil }
        let hex = Array(token.utf8.dropFirst(prefix.utf8.count))
        guard !hex.isEmpty, hex.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var i = 0
        while i < hex.count {
            guard let b = UInt8(String(decoding: hex[i...i + 1], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(b)
            i += 2
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
