using System.Net.Http.Headers;
using EventSourcedRegistry.Api.Hosting;
using EventSourcedRegistry.Api.Tests.Support;
using Microsoft.Playwright;

namespace EventSourcedRegistry.ConsoleTests.Support;

/// <summary>
/// One real API (the built app as its own process on a free port: Kestrel, as README's run command starts it) on one
/// throwaway PostgreSQL cluster, and one headless Chromium, shared by every console test: starting either costs seconds.
/// Tests keep apart by their own model names and workspaces, not by resets.
/// </summary>
public sealed class ConsoleFixture : IAsyncLifetime
{
    /// <summary>Debian's chromium: Playwright's own browser download cannot run here (see docs/console.md).</summary>
    public const string Chromium = "/usr/bin/chromium";

    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), $"esr-console-tests-{Guid.NewGuid():N}");
    private EmbeddedPostgres? _postgres;
    private IPlaywright? _playwright;

    public ApiProcess Api { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;
    public string ConnectionString { get; private set; } = "";
    public Uri BaseAddress => Api.Client.BaseAddress!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(Chromium))
            throw new InvalidOperationException($"{Chromium} is missing: install Debian's chromium (apt-get install -y chromium); .ci/run does.");
        var postgres = EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions { DataDirectory = Path.Combine(_dataDirectory, "postgres"), Durable = false });
        var playwright = Playwright.CreateAsync();
        _postgres = await postgres;
        ConnectionString = _postgres.ConnectionString;
        Api = await StartApi();
        _playwright = await playwright;
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            // The tests run as root in CI, where Chromium's sandbox cannot start.
            Args = ["--no-sandbox"],
        });
    }

    /// <summary>Another node of the same deployment: the same database, its own process and port; <paramref name="settings"/> added to its environment.</summary>
    public Task<ApiProcess> StartApi(IReadOnlyDictionary<string, string?>? settings = null)
    {
        var environment = new Dictionary<string, string?>
        {
            [$"ConnectionStrings__{RegistryDatabase.ConnectionStringName}"] = ConnectionString,
            ["Registry__Artifacts__Directory"] = Path.Combine(_dataDirectory, "artifacts"),
            ["Registry__Audit__SigningKeyPath"] = Path.Combine(_dataDirectory, "audit", "audit-signing-key.pem"),
            // Promotions and alias moves act at once; the approvals inbox tests protect Production in workspaces of their own.
            ["Registry__Approvals__ProtectedStages"] = "",
            ["Registry__Approvals__ProtectedAliases"] = "",
            ["Registry__RateLimits__Enabled"] = "false",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        foreach (var (name, value) in settings ?? new Dictionary<string, string?>()) environment[name] = value;
        return ApiProcess.Start(environment, TimeSpan.FromSeconds(60));
    }

    /// <summary>An HTTP client of the API holding <paramref name="key"/>.</summary>
    public HttpClient ClientWithKey(string key) =>
        new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60), DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("ApiKey", key) } };

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
        if (Api is not null) await Api.DisposeAsync();
        if (_postgres is not null) await _postgres.DisposeAsync();
        try { Directory.Delete(_dataDirectory, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}

[CollectionDefinition(Name)]
public sealed class ConsoleCollection : ICollectionFixture<ConsoleFixture>
{
    public const string Name = "console";
}
