using System.ComponentModel;
using System.Diagnostics;
using System.Text.RegularExpressions;
using EventSourcedRegistry.Api.Tests.Support;
using Npgsql;

namespace EventSourcedRegistry.Api.Tests.Samples;

/// <summary>
/// The registry README's walkthroughs meet: the built API as its own process with the product's default settings
/// (four-eyes approval, rate limits), on a fresh database in the test run's PostgreSQL, started once for the class.
/// Before any test touches it, README's "Try it" block runs against it (as a newcomer's first commands would) and its
/// outcome is kept for <see cref="when_following_the_readme_walkthroughs"/> to judge.
/// </summary>
public sealed class WalkthroughRegistry(AppFixture app) : IAsyncLifetime
{
    private readonly string _database = $"esr_walkthrough_{Guid.NewGuid():N}";

    /// <summary>A throwaway folder: the registry's data directory (artifacts, signing key) and the walkthroughs' files.</summary>
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), $"esr-walkthrough-{Guid.NewGuid():N}");

    public ApiProcess Api { get; private set; } = null!;

    /// <summary>Where users would type <c>http://localhost:5000</c>.</summary>
    public string Server => Api.Client.BaseAddress!.ToString().TrimEnd('/');

    public static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(3);

    /// <summary>README's Try it block as this registry's URL and bootstrap key fill it in.</summary>
    public string TryItScript { get; private set; } = "";

    /// <summary>What bash made of it, or why it could not run (kept for the test to report, not to fail the class).</summary>
    public ProcessRun? TryIt { get; private set; }
    public Exception? TryItFailure { get; private set; }

    private string ConnectionString => new NpgsqlConnectionStringBuilder(app.ConnectionString) { Database = _database }.ConnectionString;

    public async Task InitializeAsync()
    {
        System.IO.Directory.CreateDirectory(Directory);
        await using (var admin = new NpgsqlConnection(app.ConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"create database {_database}", admin);
            await create.ExecuteNonQueryAsync();
        }
        Api = await ApiProcess.Start(new Dictionary<string, string?>
        {
            ["ConnectionStrings__Registry"] = ConnectionString,
            ["Registry__DataDirectory"] = Path.Combine(Directory, "data"),
            // The product's defaults, not the test host's: the shared host sets this for the tests in this process.
            ["Registry__TimeTravel__SnapshotEvery"] = null,
            ["Logging__LogLevel__Default"] = "Warning",
        }, TimeSpan.FromMinutes(2));

        try
        {
            TryItScript = FillIn(ReadmeBlock("try-it"), Server, AppFixture.AdminKey);
            var script = Path.Combine(Directory, "try-it.sh");
            await File.WriteAllTextAsync(script, TryItScript);
            TryIt = await ProcessRun.Start("bash", ["--noprofile", "--norc", "-e", script], Directory, new Dictionary<string, string?>(), StepTimeout);
        }
        catch (Exception e) when (e is Xunit.Sdk.XunitException or TimeoutException or IOException)
        {
            TryItFailure = e;
        }
    }

    public async Task DisposeAsync()
    {
        if (Api is not null) await Api.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await using (var admin = new NpgsqlConnection(app.ConnectionString))
        {
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"drop database if exists {_database} with (force)", admin);
            await drop.ExecuteNonQueryAsync();
        }
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>The highest event sequence in this registry's store.</summary>
    public async Task<long> StoreHead()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var last = new NpgsqlCommand("select coalesce(max(seq_id), 0) from registry.mt_events", connection);
        return (long)(await last.ExecuteScalarAsync())!;
    }

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>A project's build output, in the configuration and framework these tests were built in (as ApiProcess finds the API's).</summary>
    public static string BuildOutput(string projectDirectory, string assembly)
    {
        var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        return Path.Combine(RepositoryRoot, projectDirectory, "bin", testBin.Parent!.Name, testBin.Name, assembly);
    }

    /// <summary>
    /// The shell block README marks with <c>&lt;!-- {name}:begin … --&gt;</c> and <c>&lt;!-- {name}:end --&gt;</c>, read from
    /// README itself: the fenced code between the markers, without the fence.
    /// </summary>
    public static string ReadmeBlock(string name)
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot, "README.md"));
        var match = Regex.Match(readme, $@"<!-- {Regex.Escape(name)}:begin[^>]*-->\s*```sh\n(?<code>.*?)\n```\s*<!-- {Regex.Escape(name)}:end -->", RegexOptions.Singleline);
        Assert.True(match.Success, $"README.md marks a ```sh block with <!-- {name}:begin --> and <!-- {name}:end -->");
        return match.Groups["code"].Value + "\n";
    }

    /// <summary>What a reader fills in: the registry's address and the key its first start printed. Each must be there once.</summary>
    public static string FillIn(string block, string server, string bootstrapKey)
    {
        const string defaultServer = "http://localhost:5000";
        const string printedKey = "export ESR_API_KEY=esr_...";
        Assert.True(Regex.Count(block, Regex.Escape(defaultServer)) == 1, $"the block names {defaultServer} once:\n{block}");
        Assert.True(Regex.Count(block, Regex.Escape(printedKey)) == 1, $"the block has the line '{printedKey}' once:\n{block}");
        return block.Replace(defaultServer, server).Replace(printedKey, "export ESR_API_KEY=" + bootstrapKey);
    }

    private static string FindRepositoryRoot()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "EventSourcedRegistry.sln"))) root = root.Parent;
        return root?.FullName ?? throw new InvalidOperationException("The repository root (EventSourcedRegistry.sln) was not found above the test binaries.");
    }
}

/// <summary>A finished process: its exit code and what it wrote.</summary>
public sealed record ProcessRun(string Command, int ExitCode, string Out, string Error)
{
    public override string ToString() => $"{Command} exited with {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Error}";

    /// <summary>
    /// Runs a command to its end with these environment changes (null removes one), or kills it with its children after
    /// the timeout. A command that is not installed fails the test naming it (CI installs bash and curl).
    /// </summary>
    public static async Task<ProcessRun> Start(string file, IEnumerable<string> arguments, string workingDirectory,
        IReadOnlyDictionary<string, string?> environment, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (name, value) in environment)
        {
            if (value is null) start.Environment.Remove(name);
            else start.Environment[name] = value;
        }
        var command = $"{file} {string.Join(' ', start.ArgumentList)}";
        Process process;
        try { process = Process.Start(start)!; }
        catch (Win32Exception e) { throw new Xunit.Sdk.XunitException($"{file} is not installed here ({e.Message}); .ci/run installs it."); }
        using (process)
        {
            process.StandardInput.Close();
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            using var deadline = new CancellationTokenSource(timeout);
            try
            {
                await process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
                throw new TimeoutException($"{command} ran longer than {timeout}:\n{await output}\n{await error}");
            }
            return new ProcessRun(command, process.ExitCode, await output, await error);
        }
    }
}
