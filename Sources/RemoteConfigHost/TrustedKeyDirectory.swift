public import RemoteConfig
import WharfSupport

/// The trusted-keys directory: one `KEY_ID.pub` file per key, read again for every document, so a
/// key added or removed takes effect without a restart.
public enum TrustedKeyDirectory {
    /// The keys of `directory`; a missing directory holds no keys. Fails on the first unreadable
    /// or malformed key file, naming it.
    public static func load(_ directory: String) -> Result<TrustedKeys, StateFile.Failure> {
        var keys: [TrustedKey] = []
        do {
            for name in try StateFile.list(directory) ?? [] {
                guard let keyID = KeyFile.keyID(forFileName: name) else { continue }
                let path = directory + "/" + name
                let text = String(decoding: try StateFile.read(path) ?? [], as: UTF8.self)
                switch KeyFile.parsePublic(text, keyID: keyID) {
                case .failure(let error): return .failure(StateFile.Failure(description: "\(path): \(error)"))
                case .success(let key): keys.append(key)
                }
            }
        } catch {
            return .failure(error)
        }
        return .success(TrustedKeys(keys))
    }
}
