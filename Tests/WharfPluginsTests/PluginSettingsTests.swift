import PluginProtocol
import Testing
import WharfConfig

@testable import WharfPlugins

@Suite("Plugin settings")
struct PluginSettingsTests {
    private func read(_ section: String) -> Result<PluginSettings, ConfigError> {
        let yaml = "adapters:\n  - name: p1\n    type: plugin\n" + section
        switch ConfigLoader.load(yaml: yaml, file: "wharf.yaml") {
        case .failure(let error): return .failure(error)
        case .success(let configuration):
            do throws(ConfigError) {
                return .success(try PluginSettings(adapter: configuration.adapters[0]))
            } catch {
                return .failure(error)
            }
        }
    }

    private func issues(_ section: String) -> [String] {
        if case .failure(let error) = read(section) { return error.issues.map(\.description) }
        return []
    }

    @Test("defaults, and the plugin's own config passed through as JSON in order")
    func defaults() throws {
        let settings = try read(
            "    command: wharf-opcua\n    config:\n      b: 1\n      a: [true, \"x\", 2.5, null]\n"
        ).get()
        #expect(settings.command == "wharf-opcua")
        #expect(settings.credit == 64 && settings.maxLineBytes == 1 << 20)
        #expect(settings.maxRestarts == 5 && settings.restartWindow == .seconds(600))
        #expect(settings.statusTopic(for: "p1") == "plugins/p1/$status")
        #expect(
            settings.config
                == .object([
                    ("b", .integer(1)), ("a", .array([.bool(true), .string("x"), .number(2.5), .null])),
                ]))
    }

    @Test("every problem is reported with its line and key")
    func problems() {
        let found = issues(
            "    credit: 0\n    working_directory: relative\n    limits: { open_files: 4 }\n"
                + "    status_topic: \"a/{nope}\"\n    env: { \"A=B\": x }\n    shutdown_grace: soon\n")
        #expect(found.contains { $0.contains("missing required key 'command'") })
        #expect(found.contains { $0.hasPrefix("wharf.yaml:4:") && $0.contains("credit") })
        #expect(found.contains { $0.hasPrefix("wharf.yaml:5:") && $0.contains("absolute directory") })
        #expect(found.contains { $0.contains("at least 16 descriptors") })
        #expect(found.contains { $0.contains("unknown placeholder") })
        #expect(found.contains { $0.contains("environment variable name") })
        #expect(found.contains { $0.contains("shutdown_grace") })
        #expect(issues("    command: x\n    credti: 3\n").contains { $0.contains("did you mean 'credit'") })
    }

    @Test("the launcher gets the parent, the directory, the limits, then the command")
    func launcherArguments() {
        let launch = PluginLaunch(
            launcher: "/l", executable: "/p/x", arguments: ["-v"], environment: [], workingDirectory: "/w",
            memoryLimit: 1 << 24, openFilesLimit: 64, cpuSecondsLimit: 0)
        #expect(
            launch.launcherArguments(parent: 42)
                == ["--parent", "42", "--cwd", "/w", "--memory", "16777216", "--open-files", "64", "--", "/p/x", "-v"])
    }

    @Test("a relative command is looked up in the plugin directory")
    func paths() {
        #expect(PluginPaths.resolve(command: "/abs/p", environment: [:]) == "/abs/p")
        #expect(PluginPaths.resolve(command: "p", environment: [:]) == "/usr/lib/wharf/plugins/p")
        #expect(PluginPaths.resolve(command: "p", environment: ["WHARF_PLUGIN_DIR": "/d/"]) == "/d/p")
        #expect(PluginPaths.directory(of: "/a/b/c") == "/a/b")
        #expect(PluginPaths.problem(executable: "/nonexistent/plugin")?.contains("No such file") == true)
        #expect(PluginPaths.problem(executable: "/tmp")?.contains("directory") == true)
        #expect(PluginPaths.problem(executable: "/bin/sh") == nil)
    }

    @Test("the environment holds a few inherited variables, the name, then the configured ones")
    func environment() throws {
        var settings = PluginSettings()
        settings.environment = [
            EnvironmentVariable(name: "PATH", value: "/opt/bin"), EnvironmentVariable(name: "MODE", value: "fast"),
        ]
        let environment = PluginAdapter.environment(
            settings: settings, name: "p1", inherited: ["PATH": "/usr/bin", "SECRET": "x", "LANG": "C.UTF-8"])
        #expect(environment.contains("PATH=/opt/bin") && !environment.contains("PATH=/usr/bin"))
        #expect(environment.contains("WHARF_PLUGIN_NAME=p1") && environment.contains("LANG=C.UTF-8"))
        #expect(environment.contains("MODE=fast") && !environment.contains { $0.hasPrefix("SECRET=") })
    }

    @Test("an exit status is described as the plugin's code or the signal that ended it")
    func exitDescriptions() {
        #expect(PluginSpawner.describe(3 << 8) == "exit status 3")
        #expect(PluginSpawner.describe((128 + 9) << 8) == "killed by signal 9")
        #expect(PluginSpawner.describe(9) == "launcher killed by signal 9")
    }
}
