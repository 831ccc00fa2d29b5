import Foundation

/// metav1.Time: RFC 3339 with second precision in UTC ("2026-11-27T18:32:26Z").
public struct Time: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var date: Date

    public init(_ date: Date) {
        self.date = Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
    }
    public static func now() -> Time { Time(Date()) }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let d = Time.parse(s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "invalid RFC 3339 time \"\(s)\"")
        }
        date = d
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }

    /// Formatted by hand: ISO8601DateFormatter costs ~70 µs a call, and every object write prints times.
    public var description: String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        func pad(_ v: Int32, _ n: Int) -> String {
            let s = String(v)
            return s.count >= n ? s : String(repeating: "0", count: n - s.count) + s
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))Z"
    }

    /// RFC 3339: "2026-11-27T18:32:26Z", with optional fractional seconds and a numeric offset.
    static func parse(_ s: String) -> Date? {
        let c = Array(s.utf8)
        func num(_ from: Int, _ len: Int) -> Int32? {
            guard from + len <= c.count else { return nil }
            var v: Int32 = 0
            for i in from..<(from + len) {
                guard c[i] >= 48 && c[i] <= 57 else { return nil }
                v = v * 10 + Int32(c[i] - 48)
            }
            return v
        }
        guard c.count >= 20, c[4] == 45, c[7] == 45, c[10] == 84 || c[10] == 116, c[13] == 58, c[16] == 58,
              let year = num(0, 4), let month = num(5, 2), let day = num(8, 2),
              let hour = num(11, 2), let minute = num(14, 2), let second = num(17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var i = 19
        var fraction = 0.0
        if i < c.count, c[i] == 46 {
            i += 1
            var scale = 0.1
            let startDigits = i
            while i < c.count, c[i] >= 48, c[i] <= 57 { fraction += Double(c[i] - 48) * scale; scale /= 10; i += 1 }
            if i == startDigits { return nil }
        }
        var offset = 0
        guard i < c.count else { return nil }
        if c[i] == 90 || c[i] == 122 {
            i += 1
        } else if c[i] == 43 || c[i] == 45, let oh = num(i + 1, 2), i + 3 < c.count, c[i + 3] == 58, let om = num(i + 4, 2) {
            offset = (Int(oh) * 3600 + Int(om) * 60) * (c[i] == 45 ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == c.count else { return nil }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        let t = timegm(&parts)
        return Date(timeIntervalSince1970: Double(t - offset) + fraction)
    }

    public static func < (a: Time, b: Time) -> Bool { a.date < b.date }
}

/// kubectl's AGE column (duration.HumanDuration): "45s", "5m", "3h", "2d", "2y".
public func humanDuration(_ seconds: TimeInterval) -> String {
    let s = Int(seconds.rounded(.down))
    if s < 0 { return "0s" }
    if s < 60 * 2 { return "\(s)s" }
    let m = s / 60
    if m < 10 { let rs = s % 60; return rs == 0 ? "\(m)m" : "\(m)m\(rs)s" }
    if m < 60 * 3 { return "\(m)m" }
    let h = s / 3600
    if h < 8 { let rm = (s % 3600) / 60; return rm == 0 ? "\(h)h" : "\(h)h\(rm)m" }
    if h < 48 { return "\(h)h" }
    if h < 24 * 8 { let rh = h % 24; return rh == 0 ? "\(h / 24)d" : "\(h / 24)d\(rh)h" }
    if h < 24 * 365 * 2 { return "\(h / 24)d" }
    if h < 24 * 365 * 8 { let dy = (h / 24) % 365; return dy == 0 ? "\(h / 24 / 365)y" : "\(h / 24 / 365)y\(dy)d" }
    return "\(h / 24 / 365)y"
}
