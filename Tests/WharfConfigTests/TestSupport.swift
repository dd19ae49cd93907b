import Testing
import WharfConfig

/// Loads a YAML document that must be valid; records a test failure with its issues otherwise.
func loadValid(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> WharfConfiguration? {
    switch ConfigLoader.load(yaml: yaml, file: "wharf.yaml") {
    case .success(let configuration):
        return configuration
    case .failure(let error):
        Issue.record("expected a valid document, got:\n\(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// The issues of a YAML document that must be invalid (empty when it unexpectedly loads).
func issues(of yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> [ConfigIssue] {
    switch ConfigLoader.load(yaml: yaml, file: "wharf.yaml") {
    case .success:
        Issue.record("expected the document to be rejected", sourceLocation: sourceLocation)
        return []
    case .failure(let error):
        return error.issues
    }
}
