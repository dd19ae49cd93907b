/// The values of YAML 1.1 booleans and floats, as YAML tools construct them.
extension PlainScalar {
    /// The boolean `text` spells (`true`, `yes`, `on`; `false`, `no`, `off`; in any case, as
    /// `!!bool` accepts them), if it spells one.
    static func bool(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: return nil
        }
    }

    /// The floating-point number `text` spells: `.inf`, `+.inf`, `-.inf` and `.nan` in any case,
    /// otherwise a decimal number whose digits `_` may separate. Sexagesimal (`1:30`) is not read.
    static func double(_ text: String) -> Double? {
        switch text.lowercased() {
        case ".inf", "+.inf": return .infinity
        case "-.inf": return -.infinity
        case ".nan": return .nan
        default: return Double(String(String.UnicodeScalarView(text.unicodeScalars.filter { $0 != "_" })))
        }
    }
}
