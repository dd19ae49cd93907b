import PropertyBased
import Testing

@testable import RemoteConfigState

/// A record with every field set, and values that need escaping.
let fullRecord = RemoteConfigRecord(
    lastKnownGood: 5, highestVersion: 7, desiredSeen: 8,
    provisional: Candidate(version: 7, sections: ["adapters", "odd\tname\\n"], needsRestart: true),
    remainingNanoseconds: 42 * second, provisionalStarts: [1_700_000_000, -3],
    lastAttempt: Attempt(
        version: 7, result: .pendingConfirmation, sections: ["adapters"],
        errors: [ReportedError(path: "adapters[0].port", message: "line one\nline two = \"x\"\r\t\\")],
        startedAt: 1_700_000_000, finishedAt: nil),
    updatedAt: 1_700_000_100)

@Suite struct RemoteConfigRecordTests {
    @Test func aRecordReadsBackAsWritten() throws {
        #expect(try RemoteConfigRecord(decoding: fullRecord.encoded()) == fullRecord)
        #expect(try RemoteConfigRecord(decoding: RemoteConfigRecord.initial.encoded()) == .initial)
    }

    @Test func theEncodingIsLineBasedAndVersioned() {
        let lines = fullRecord.encoded().split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first == "wharf-remote-config-record 1")
        #expect(lines.contains("attempt_error=adapters[0].port\tline one\\nline two = \"x\"\\r\\t\\\\"))
        #expect(lines.last == "")
    }

    /// A write cut anywhere (a file read before its rename, a filesystem without atomic rename) is rejected.
    @Test func everyTruncationIsRejected() {
        let text = fullRecord.encoded()
        for length in 0..<text.utf8.count {
            let prefix = String(decoding: text.utf8.prefix(length), as: UTF8.self)
            #expect(throws: RecordDecodingError.self) { try RemoteConfigRecord(decoding: prefix) }
        }
    }

    @Test func aChangedByteIsRejected() {
        let bytes = Array(fullRecord.encoded().utf8)
        for index in bytes.indices {
            var damaged = bytes
            damaged[index] = damaged[index] == UInt8(ascii: "7") ? UInt8(ascii: "8") : UInt8(ascii: "7")
            let text = String(decoding: damaged, as: UTF8.self)
            #expect(throws: RecordDecodingError.self, "byte \(index)") { try RemoteConfigRecord(decoding: text) }
        }
    }

    @Test func anUnknownFormatOrKeyIsRejected() throws {
        func sealed(_ body: String) -> String { body + "checksum=\(RemoteConfigRecord.checksum(body))\n" }
        let future = sealed("wharf-remote-config-record 2\nlast_known_good=1\n")
        #expect(throws: RecordDecodingError.self) { try RemoteConfigRecord(decoding: future) }
        let body = "wharf-remote-config-record 1\nlast_known_good=1\nhighest_version=1\ndesired_seen=1\n"
        #expect(throws: RecordDecodingError.self) {
            try RemoteConfigRecord(decoding: sealed(body + "colour=blue\nupdated_at=0\n"))
        }
        #expect(throws: RecordDecodingError.self) {
            try RemoteConfigRecord(decoding: sealed(body + "updated_at=+0\n"))
        }
        #expect(try RemoteConfigRecord(decoding: sealed(body + "updated_at=0\n")).lastKnownGood == 1)
    }

    @Test func randomRecordsReadBackAsWritten() async {
        // Tab to tilde: line breaks, backslashes, tabs and '=' included.
        let text = Gen.character(in: "\t"..."~").string(of: 0...8)
        await propertyCheck(
            input: Gen.uint64(in: 0...UInt64.max), Gen.bool, text.array(of: 0...3), Gen.int64(in: Int64.min...Int64.max)
        ) { version, flag, strings, time in
            let attempt = Attempt(
                version: version, result: flag ? .rolledBack : .applied, sections: strings,
                errors: strings.map { ReportedError(path: $0, message: $0 + "!") }, startedAt: time,
                finishedAt: flag ? nil : time)
            let record = RemoteConfigRecord(
                lastKnownGood: version / 2, highestVersion: version, desiredSeen: version,
                provisional: flag ? Candidate(version: version, sections: strings, needsRestart: !flag) : nil,
                remainingNanoseconds: flag ? version : 0, provisionalStarts: flag ? [time, 0] : [],
                lastAttempt: attempt, updatedAt: time)
            #expect((try? RemoteConfigRecord(decoding: record.encoded())) == record)
        }
    }
}
