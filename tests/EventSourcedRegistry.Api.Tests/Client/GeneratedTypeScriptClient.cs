using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EventSourcedRegistry.Api.Tests.Samples;
using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.Client;

/// <summary>
/// A TypeScript client generated the way docs/clients.md tells users to: NSwag (pinned in .config/dotnet-tools.json) reads
/// the document the test host serves at <c>/openapi/v1.json</c> and writes the client into a throwaway folder, never into
/// the clone; TypeScript (pinned in tools/clientgen) compiles it. Generated once per class. The tools are restored here if
/// they are not yet (.ci/run restores them first, to keep that out of the test timings); a tool that cannot be had fails
/// the test that needs it, naming the command to run.
/// </summary>
public sealed class GeneratedTypeScriptClient(AppFixture app) : IAsyncLifetime
{
    public static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(4);

    private readonly SemaphoreSlim _generating = new(1, 1);
    private Task? _generated;

    /// <summary>The throwaway folder: openapi.json, client.ts, the tsconfig files, the test program and its output.</summary>
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), $"esr-clientgen-{Guid.NewGuid():N}");

    public string ClientFile => Path.Combine(Directory, "client.ts");

    /// <summary>The document as the host served it.</summary>
    public JsonNode Document { get; private set; } = null!;

    /// <summary>How long each step took, for the tests' output.</summary>
    public List<string> Timings { get; } = [];

    private static string ToolDirectory => Path.Combine(WalkthroughRegistry.RepositoryRoot, "tools", "clientgen");
    private static string Tsc => Path.Combine(ToolDirectory, "node_modules", ".bin", "tsc");

    public Task InitializeAsync()
    {
        System.IO.Directory.CreateDirectory(Directory);
        return Task.CompletedTask;
    }

    /// <summary>Fetches the document and generates client.ts from it, once; a failure is every caller's failure.</summary>
    public async Task Generate()
    {
        await _generating.WaitAsync();
        try { _generated ??= GenerateOnce(); }
        finally { _generating.Release(); }
        await _generated;
    }

    private async Task GenerateOnce()
    {
        // Idempotent and offline once the packages are in the NuGet cache.
        await Timed("dotnet tool restore", () => Run("dotnet", ["tool", "restore"], WalkthroughRegistry.RepositoryRoot,
            "the tool manifest .config/dotnet-tools.json could not be restored"));
        if (!File.Exists(Tsc))
            await Timed("npm ci tools/clientgen", () => Run("npm", ["ci", "--prefix", ToolDirectory, "--no-audit", "--no-fund"],
                WalkthroughRegistry.RepositoryRoot, "TypeScript could not be installed from tools/clientgen/package-lock.json"));

        // Anonymous, as a user fetches it.
        using var anonymous = app.Host.AnonymousClient();
        var raw = await anonymous.GetStringAsync("/openapi/v1.json");
        Document = JsonNode.Parse(raw)!;
        var input = Path.Combine(Directory, "openapi.json");
        await File.WriteAllTextAsync(input, raw);

        // docs/clients.md's command, with this folder's files in place of the ones it names.
        string[] generate = ["tool", "run", "nswag", "openapi2tsclient", $"/input:{input}", $"/output:{ClientFile}", .. DocumentedOptions()];
        await Timed("nswag openapi2tsclient", () => Run("dotnet", generate, WalkthroughRegistry.RepositoryRoot, "NSwag could not generate the client"));
        if (!File.Exists(ClientFile)) throw new Xunit.Sdk.XunitException($"NSwag reported success but wrote no {ClientFile}");

        // Node runs the compiled program as an ES module.
        await File.WriteAllTextAsync(Path.Combine(Directory, "package.json"), """{ "private": true, "type": "module" }""");
    }

    /// <summary>
    /// The options of docs/clients.md's <c>dotnet nswag openapi2tsclient</c> line, less its input and output files. The
    /// Fetch template is required: it is why the client needs no runtime package.
    /// </summary>
    public static string[] DocumentedOptions()
    {
        const string command = "dotnet nswag openapi2tsclient ";
        var lines = DocsBlock("clientgen-typescript", "sh").Split('\n').Where(l => l.StartsWith(command, StringComparison.Ordinal)).ToList();
        Assert.True(lines.Count == 1, $"docs/clients.md's clientgen-typescript block has one line starting '{command}'");
        var arguments = lines[0][command.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("/input:openapi.json", arguments);
        Assert.Contains("/output:client.ts", arguments);
        Assert.Contains("/template:Fetch", arguments);
        return arguments.Where(a => !a.StartsWith("/input:", StringComparison.Ordinal) && !a.StartsWith("/output:", StringComparison.Ordinal)).ToArray();
    }

    /// <summary>The fenced code docs/clients.md marks with <c>&lt;!-- {name}:begin --&gt;</c> and <c>&lt;!-- {name}:end --&gt;</c>.</summary>
    public static string DocsBlock(string name, string language)
    {
        var docs = File.ReadAllText(Path.Combine(WalkthroughRegistry.RepositoryRoot, "docs", "clients.md"));
        var match = Regex.Match(docs, $@"<!-- {Regex.Escape(name)}:begin -->\s*```{language}\n(?<code>.*?)\n```\s*<!-- {Regex.Escape(name)}:end -->", RegexOptions.Singleline);
        Assert.True(match.Success, $"docs/clients.md marks a ```{language} block with <!-- {name}:begin --> and <!-- {name}:end -->");
        return match.Groups["code"].Value + "\n";
    }

    /// <summary>Compiles with the pinned TypeScript and this folder's tsconfig file of that name.</summary>
    public Task<ProcessRun> Compile(string tsconfig) =>
        Timed($"tsc -p {tsconfig}", () => Run(Tsc, ["-p", Path.Combine(Directory, tsconfig)], Directory, $"tsc -p {tsconfig} failed"));

    /// <summary>
    /// A tsconfig for these files: strict, today's Node and browsers, the DOM's fetch types and no ambient types from
    /// anywhere else, so the generated client must compile on its own.
    /// </summary>
    public Task WriteTsconfig(string name, string[] files, string? outDir)
    {
        var options = new JsonObject
        {
            ["strict"] = true,
            ["noImplicitOverride"] = true,
            ["target"] = "es2022",
            ["module"] = "nodenext",
            ["moduleResolution"] = "nodenext",
            ["lib"] = new JsonArray("es2022", "dom"),
            ["types"] = new JsonArray(),
            ["noEmit"] = outDir is null,
        };
        if (outDir is not null) options["outDir"] = outDir;
        var tsconfig = new JsonObject
        {
            ["compilerOptions"] = options,
            ["files"] = new JsonArray(files.Select(f => (JsonNode)f).ToArray()),
        };
        return File.WriteAllTextAsync(Path.Combine(Directory, name), tsconfig.ToJsonString());
    }

    public async Task<ProcessRun> Timed(string step, Func<Task<ProcessRun>> run)
    {
        var clock = Stopwatch.StartNew();
        var result = await run();
        lock (Timings) Timings.Add($"{step}: {clock.Elapsed.TotalSeconds:0.00} s");
        return result;
    }

    /// <summary>Runs a command to its end; a non-zero exit fails the test with what it printed.</summary>
    public static async Task<ProcessRun> Run(string file, string[] arguments, string workingDirectory, string failure)
    {
        var run = await ProcessRun.Start(file, arguments, workingDirectory, new Dictionary<string, string?>(), StepTimeout);
        if (run.ExitCode != 0) throw new Xunit.Sdk.XunitException($"{failure}:\n{run}");
        return run;
    }

    public Task DisposeAsync()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return Task.CompletedTask;
    }
}
