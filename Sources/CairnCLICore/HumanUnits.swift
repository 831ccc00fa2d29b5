/// Byte counts for people, in binary units as `df -h` and Kubernetes' `Gi` count them: "1.5Gi", "12Ki",
/// "0". Above 10 of a unit the figure is whole ("18Gi") unless `tenths` asks for one decimal ("18.1Gi").
public func humanBytes(_ n: Int64?, tenths: Bool = false) -> String {
    guard let n else { return "" }
    let units = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
    var v = Double(n.magnitude)
    var i = 0
    while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
    let sign = n < 0 ? "-" : ""
    if i == 0 { return "\(n)" }
    if (v >= 10 && !tenths) || v == v.rounded() { return "\(sign)\(Int(v.rounded()))\(units[i])" }
    let rounded = (v * 10).rounded() / 10
    return rounded == rounded.rounded() ? "\(sign)\(Int(rounded))\(units[i])" : "\(sign)\(rounded)\(units[i])"
}
