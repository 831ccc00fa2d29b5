import CairnCore

/// resource.Quantity: parsing never traps, and what parses prints back to the same quantity
/// (apimachinery's canonical form round-trips), compares consistently, and does arithmetic
/// without trapping.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzQuantity(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let q = try? Quantity(parsing: text) else { return 0 }
    let printed = q.description
    guard let again = try? Quantity(parsing: printed) else { fatalError("\(text.debugDescription) prints as \(printed.debugDescription), which does not parse") }
    if again != q { fatalError("\(text.debugDescription) prints as \(printed.debugDescription), which parses to another quantity") }
    if again.description != printed { fatalError("\(printed.debugDescription) does not print as itself") }
    _ = q.bytes
    _ = q.value
    _ = q.milliValue
    _ = q.sign
    let doubled = q + q
    if (q < doubled) != (q.sign > 0) && !q.isZero { fatalError("\(text.debugDescription): q < q + q is \(q < doubled)") }
    _ = (doubled - q) == q
    _ = -q
    return 0
}
