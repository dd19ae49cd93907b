/// The text of server-sent events (`text/event-stream`, HTML Living Standard §9.2).
enum ServerSentEvent {
    /// `event: NAME` and the data, one `data:` line per line of it (a browser joins them with
    /// line feeds), then the blank line that ends the event. Line breaks of any kind in `data`
    /// become separate `data:` lines, so the data can never end the event early or add a field.
    static func event(_ name: String, data: String) -> String {
        var text = "event: \(name)\n"
        for line in lines(of: data) { text += "data: \(line)\n" }
        return text + "\n"
    }

    /// A comment line, which clients ignore (`: keep-alive`): keeps proxies and NAT from ending
    /// an idle stream, and tells a server that the client is gone when it fails.
    static func comment(_ text: String) -> String {
        lines(of: text).map { ": \($0)\n" }.joined() + "\n"
    }

    /// `text` split at CR LF, LF and CR, as the event stream parser splits lines.
    static func lines(of text: String) -> [Substring] {
        var lines: [Substring] = []
        var start = text.startIndex
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            // "\r\n" is one Character in Swift, so each of the three endings is one step here.
            if character == "\n" || character == "\r" || character == "\r\n" {
                lines.append(text[start..<index])
                index = text.index(after: index)
                start = index
            } else {
                index = text.index(after: index)
            }
        }
        lines.append(text[start...])
        return lines
    }
}
