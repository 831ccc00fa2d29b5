import CZlib
import Foundation

/// SPDY/3.1 framing (draft-mbelshe-httpbis-spdy-00), the part kubectl's streams use: kubectl 1.29 and
/// older speak `kubectl exec` only over SPDY (moby/spdystream), and newer ones fall back to it when a
/// WebSocket upgrade is refused. A connection carries one stream per channel (error, stdin, stdout,
/// stderr, resize), each opened by the client with SYN_STREAM and accepted with SYN_REPLY.
enum SPDYFrame: Sendable, Equatable {
    case synStream(streamID: UInt32, flags: UInt8, headerBlock: [UInt8])
    case synReply(streamID: UInt32, flags: UInt8, headerBlock: [UInt8])
    case rstStream(streamID: UInt32, status: UInt32)
    case ping(id: UInt32)
    case goAway(lastStreamID: UInt32, status: UInt32)
    case data(streamID: UInt32, flags: UInt8, payload: [UInt8])
    /// SETTINGS, HEADERS, WINDOW_UPDATE and the rest: nothing an exec needs (spdystream does no flow
    /// control), read and ignored.
    case other(type: UInt16)

    static let version: UInt16 = 3
    static let flagFin: UInt8 = 0x01

    enum ControlType: UInt16 {
        case synStream = 1, synReply = 2, rstStream = 3, settings = 4, ping = 6, goAway = 7, headers = 8, windowUpdate = 9
    }

    /// The frame's bytes on the wire.
    var encoded: [UInt8] {
        switch self {
        case .synStream(let id, let flags, let block):
            return Self.control(.synStream, flags, Self.be32(id & 0x7fff_ffff) + Self.be32(0) + [0, 0] + block)
        case .synReply(let id, let flags, let block):
            return Self.control(.synReply, flags, Self.be32(id & 0x7fff_ffff) + block)
        case .rstStream(let id, let status):
            return Self.control(.rstStream, 0, Self.be32(id & 0x7fff_ffff) + Self.be32(status))
        case .ping(let id):
            return Self.control(.ping, 0, Self.be32(id))
        case .goAway(let last, let status):
            return Self.control(.goAway, 0, Self.be32(last & 0x7fff_ffff) + Self.be32(status))
        case .data(let id, let flags, let payload):
            return Self.be32(id & 0x7fff_ffff) + [flags] + Self.be24(UInt32(payload.count)) + payload
        case .other:
            return []
        }
    }

    static func control(_ type: ControlType, _ flags: UInt8, _ payload: [UInt8]) -> [UInt8] {
        [0x80 | UInt8(version >> 8), UInt8(version & 0xff), UInt8(type.rawValue >> 8), UInt8(type.rawValue & 0xff), flags]
            + be24(UInt32(payload.count)) + payload
    }

    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)] }
    static func be24(_ v: UInt32) -> [UInt8] { [UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)] }
}

struct SPDYProtocolError: Error, CustomStringConvertible { var description: String }

/// Cuts the byte stream into frames.
struct SPDYFrameDecoder {
    private var buffer: [UInt8] = []
    /// Larger frames are refused (the client's are a few bytes of input or a terminal size).
    static let maximumFrame = 1 << 24

    mutating func push(_ bytes: some Sequence<UInt8>) { buffer.append(contentsOf: bytes) }

    /// The next whole frame, or nil until more bytes come.
    mutating func next() throws(SPDYProtocolError) -> SPDYFrame? {
        guard buffer.count >= 8 else { return nil }
        let length = Int(buffer[5]) << 16 | Int(buffer[6]) << 8 | Int(buffer[7])
        guard buffer.count >= 8 + length else { return nil }
        let head = Array(buffer[0..<8])
        let payload = Array(buffer[8..<(8 + length)])
        buffer.removeFirst(8 + length)
        let flags = head[4]
        if head[0] & 0x80 == 0 {
            return .data(streamID: Self.be32(head, 0) & 0x7fff_ffff, flags: flags, payload: payload)
        }
        let version = UInt16(head[0] & 0x7f) << 8 | UInt16(head[1])
        guard version == SPDYFrame.version else { throw SPDYProtocolError(description: "SPDY version \(version) is not 3") }
        let type = UInt16(head[2]) << 8 | UInt16(head[3])
        switch SPDYFrame.ControlType(rawValue: type) {
        case .synStream?:
            guard payload.count >= 10 else { throw SPDYProtocolError(description: "short SYN_STREAM") }
            return .synStream(streamID: Self.be32(payload, 0) & 0x7fff_ffff, flags: flags, headerBlock: Array(payload[10...]))
        case .synReply?:
            guard payload.count >= 4 else { throw SPDYProtocolError(description: "short SYN_REPLY") }
            return .synReply(streamID: Self.be32(payload, 0) & 0x7fff_ffff, flags: flags, headerBlock: Array(payload[4...]))
        case .rstStream?:
            guard payload.count >= 8 else { throw SPDYProtocolError(description: "short RST_STREAM") }
            return .rstStream(streamID: Self.be32(payload, 0) & 0x7fff_ffff, status: Self.be32(payload, 4))
        case .ping?:
            guard payload.count >= 4 else { throw SPDYProtocolError(description: "short PING") }
            return .ping(id: Self.be32(payload, 0))
        case .goAway?:
            guard payload.count >= 8 else { throw SPDYProtocolError(description: "short GOAWAY") }
            return .goAway(lastStreamID: Self.be32(payload, 0) & 0x7fff_ffff, status: Self.be32(payload, 4))
        default:
            return .other(type: type)
        }
    }

    static func be32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3])
    }
}

/// A SPDY/3 name/value header block: a count, then length-prefixed names and values (a value may
/// hold several, separated by NUL). Names are lower case on the wire.
enum SPDYHeaderBlock {
    static func encode(_ headers: [(String, String)]) -> [UInt8] {
        var out = SPDYFrame.be32(UInt32(headers.count))
        for (name, value) in headers {
            let n = Array(name.lowercased().utf8), v = Array(value.utf8)
            out += SPDYFrame.be32(UInt32(n.count)) + n + SPDYFrame.be32(UInt32(v.count)) + v
        }
        return out
    }

    static func decode(_ block: [UInt8]) throws(SPDYProtocolError) -> [String: [String]] {
        var i = 0
        func u32() throws(SPDYProtocolError) -> Int {
            guard i + 4 <= block.count else { throw SPDYProtocolError(description: "truncated header block") }
            defer { i += 4 }
            return Int(SPDYFrameDecoder.be32(block, i))
        }
        func bytes(_ n: Int) throws(SPDYProtocolError) -> [UInt8] {
            guard n >= 0, i + n <= block.count else { throw SPDYProtocolError(description: "truncated header block") }
            defer { i += n }
            return Array(block[i..<(i + n)])
        }
        var out: [String: [String]] = [:]
        let count = try u32()
        for _ in 0..<count {
            let name = String(decoding: try bytes(try u32()), as: UTF8.self).lowercased()
            let value = try bytes(try u32())
            out[name, default: []] += value.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        }
        return out
    }

    /// The SPDY/3 header compression dictionary (section 2.6.10.1): the spec's header names and
    /// values, each with its 32-bit length, then a run of common text.
    static let dictionary: [UInt8] = {
        let words = [
            "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset", "accept-encoding",
            "accept-language", "accept-ranges", "age", "allow", "authorization", "cache-control", "connection",
            "content-base", "content-encoding", "content-language", "content-length", "content-location",
            "content-md5", "content-range", "content-type", "date", "etag", "expect", "expires", "from", "host",
            "if-match", "if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "last-modified",
            "location", "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range", "referer",
            "retry-after", "server", "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "vary", "via",
            "warning", "www-authenticate", "method", "get", "status", "200 OK", "version", "HTTP/1.1", "url",
            "public", "set-cookie", "keep-alive", "origin",
        ]
        var out: [UInt8] = []
        for w in words { out += SPDYFrame.be32(UInt32(w.utf8.count)) + Array(w.utf8) }
        let text = [
            "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505",
            "203 Non-Authoritative Information", "204 No Content", "301 Moved Permanently", "400 Bad Request",
            "401 Unauthorized", "403 Forbidden", "404 Not Found", "500 Internal Server Error", "501 Not Implemented",
            "503 Service Unavailable", "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 ",
            "Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT",
            "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,",
            "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.",
        ]
        for t in text { out += Array(t.utf8) }
        return out
    }()
}

/// One direction's header compression: a zlib stream primed with the dictionary that lives as long as
/// the connection, each header block ending in a sync flush.
final class SPDYHeaderCompression {
    enum Direction { case inflate, deflate }
    private var stream = z_stream()
    private let direction: Direction
    private var dictionarySet = false

    init(_ direction: Direction) throws(SPDYProtocolError) {
        self.direction = direction
        let rc = direction == .inflate ? cairn_inflate_init(&stream) : cairn_deflate_init(&stream, Z_DEFAULT_COMPRESSION)
        guard rc == Z_OK else { throw SPDYProtocolError(description: "zlib init failed (\(rc))") }
        if direction == .deflate {
            var dict = SPDYHeaderBlock.dictionary
            let set = dict.withUnsafeMutableBufferPointer { deflateSetDictionary(&stream, $0.baseAddress, uInt($0.count)) }
            guard set == Z_OK else { throw SPDYProtocolError(description: "zlib dictionary refused (\(set))") }
            dictionarySet = true
        }
    }

    deinit {
        if direction == .inflate { inflateEnd(&stream) } else { deflateEnd(&stream) }
    }

    /// Runs the zlib stream over `input` with a sync flush and returns what it produced.
    func process(_ input: [UInt8]) throws(SPDYProtocolError) -> [UInt8] {
        var input = input
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        var failure: SPDYProtocolError?
        input.withUnsafeMutableBufferPointer { inBuf in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = uInt(inBuf.count)
            while true {
                let (rc, produced) = chunk.withUnsafeMutableBufferPointer { outBuf -> (Int32, Int) in
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = uInt(outBuf.count)
                    let rc = direction == .inflate ? inflate(&stream, Z_SYNC_FLUSH) : deflate(&stream, Z_SYNC_FLUSH)
                    return (rc, outBuf.count - Int(stream.avail_out))
                }
                output += chunk[0..<produced]
                if rc == Z_NEED_DICT && direction == .inflate && !dictionarySet {
                    var dict = SPDYHeaderBlock.dictionary
                    let set = dict.withUnsafeMutableBufferPointer { inflateSetDictionary(&stream, $0.baseAddress, uInt($0.count)) }
                    guard set == Z_OK else { failure = SPDYProtocolError(description: "the header block's zlib dictionary is not SPDY/3's (\(set))"); return }
                    dictionarySet = true
                    continue
                }
                if rc == Z_BUF_ERROR || (rc == Z_OK && stream.avail_in == 0 && stream.avail_out > 0) { return }
                guard rc == Z_OK || rc == Z_STREAM_END else {
                    failure = SPDYProtocolError(description: "header block does not \(direction == .inflate ? "inflate" : "deflate") (zlib \(rc))")
                    return
                }
                if rc == Z_STREAM_END { return }
            }
        }
        stream.next_in = nil
        stream.next_out = nil
        if let failure { throw failure }
        return output
    }
}
