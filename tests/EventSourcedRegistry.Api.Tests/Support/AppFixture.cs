using Alba;
using EventSourcedRegistry.Api.Hosting;
using EventSourcedRegistry.Audit;
using JasperFx.CommandLine;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Store;
using Marten;
using Npgsql;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedRegistry.Api.Tests.Support;

/// <summary>
/// One app host per test run, against a throwaway PostgreSQL cluster this fixture starts itself from the
/// machine's server binaries (fsync off: these tests prove behaviour, not durability).
/// Set <c>REGISTRY_TEST_CONNECTION_STRING</c> to run against an existing database instead.
/// </summary>
public sealed partial class AppFixture : IAsyncLifetime
{
    private string? _dataDirectory;
    private EmbeddedPostgres? _postgres;

    /// <summary>The bootstrap admin key every test host starts with; <c>host.Client()</c> sends it.</summary>
    public const string AdminKey = "esr_bootstrap_test-admin-secret-that-is-long-enough-0123456789";
    /// <summary>The actor events record for calls made with <see cref="AdminKey"/>.</summary>
    public const string AdminActor = "key:bootstrap-admin";
    /// <summary>Tokens signed with this key, this issuer and audience authenticate (see <see cref="Tokens"/>).</summary>
    public const string JwtSigningKey = "test-jwt-signing-key-of-at-least-32-bytes-0123456789";
    public const string JwtIssuer = "https://issuer.esr.test";
    public const string JwtAudience = "esr-tests";

    public IAlbaHost Host { get; private set; } = null!;
    /// <summary>The file-system artifact store's root, a throwaway folder of this run.</summary>
    public string ArtifactsDirectory { get; } = Path.Combine(Path.GetTempPath(), $"esr-artifacts-{Guid.NewGuid():N}");
    /// <summary>Where the host keeps its audit signing key (created by the app on first start), in a throwaway folder.</summary>
    public string SigningKeyPath { get; } = Path.Combine(Path.GetTempPath(), $"esr-audit-key-{Guid.NewGuid():N}", "audit-signing-key.pem");
    public IDocumentStore Store => Host.Services.GetRequiredService<IDocumentStore>();
    public string ConnectionString { get; private set; } = "";
    /// <summary>The test host's model-view snapshot interval (the product's default is 100).</summary>
    public const int SnapshotEvery = 3;

    public async Task InitializeAsync()
    {
        var external = Environment.GetEnvironmentVariable("REGISTRY_TEST_CONNECTION_STRING");
        if (string.IsNullOrWhiteSpace(external))
        {
            _dataDirectory = Path.Combine(Path.GetTempPath(), $"esr-tests-{Guid.NewGuid():N}");
            _postgres = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions
            {
                DataDirectory = _dataDirectory,
                Durable = false,
            });
            ConnectionString = _postgres.ConnectionString;
        }
        else
        {
            ConnectionString = external;
        }

        // Model-view snapshots every few events instead of every 100, so time-travel tests cross snapshot boundaries.
        Environment.SetEnvironmentVariable("Registry__TimeTravel__SnapshotEvery", SnapshotEvery.ToString(System.Globalization.CultureInfo.InvariantCulture));
        JasperFxEnvironment.AutoStartHost = true;
        // Program reads the connection string before it builds the host, so it never starts an embedded cluster of its own.
        // Kept set afterwards: a test's ApiProcess inherits it (the last fixture's cluster when both collections run).
        Host = await HostStarts.On(ConnectionString, keep: true, start: () => AlbaHost.For<Program>(builder => builder
            .UseSetting("Logging:LogLevel:Default", "Warning")
            .UseSetting("Registry:Artifacts:Directory", ArtifactsDirectory)
            .UseSetting("Registry:Audit:SigningKeyPath", SigningKeyPath)
            .UseSetting("Registry:BootstrapAdminKey", AdminKey)
            .UseSetting("Registry:Auth:Jwt:SigningKey", JwtSigningKey)
            .UseSetting("Registry:Auth:Jwt:Issuer", JwtIssuer)
            .UseSetting("Registry:Auth:Jwt:Audience", JwtAudience)
            // Four-eyes approval off here, so promotions and alias moves act at once; the approval tests use GovernedHost().
            .UseSetting("Registry:Approvals:ProtectedStages", "")
            .UseSetting("Registry:Approvals:ProtectedAliases", "")
            // The shared host's tests send thousands of requests with one key as fast as the machine allows; per-caller
            // rate limits are tested on LimitedHost() and their defaults by when_limiting_request_rates.
            .UseSetting("Registry:RateLimits:Enabled", "false")
            // and no per-caller upload slots either: the hostile-input corpus sends its uploads side by side.
            .UseSetting("Registry:Artifacts:MaxConcurrentUploadsPerCaller", "0")
            // Webhook receivers of the tests listen on 127.0.0.2 (WebhookReceiver): allowed, while 127.0.0.1 and every other
            // non-public target stays refused; retries in milliseconds and a retry window of seconds, so failures are quick.
            .UseSetting("Registry:Webhooks:AllowedTargets", WebhookReceiver.Address)
            .UseSetting("Registry:Webhooks:Poll", "00:00:00.050")
            .UseSetting("Registry:Webhooks:InitialBackoff", "00:00:00.020")
            .UseSetting("Registry:Webhooks:MaxBackoff", "00:00:00.200")
            .UseSetting("Registry:Webhooks:RetryFor", "00:00:03")));
    }

    /// <summary>
    /// Each test starts from an empty registry: documents, events, the async daemon's progress (paused and resumed
    /// around the reset), the relational views Marten does not know as documents (the deployment history, the audit
    /// log and hash chain: with no events left the resumed daemon writes nothing to them), and an empty artifact store.
    /// </summary>
    public async Task ResetAsync()
    {
        await SideHost.ResetStore(Host, ConnectionString);
        if (Directory.Exists(ArtifactsDirectory)) Directory.Delete(ArtifactsDirectory, recursive: true);
    }

    public async Task DisposeAsync()
    {
        await _governed.DisposeAsync();
        await _notified.DisposeAsync();
        await _polled.DisposeAsync();
        await _limited.DisposeAsync();
        await _workspaces.DisposeAsync();
        await _auditDaemon.DisposeAsync();
        if (Host is not null) await Host.DisposeAsync();
        if (_postgres is not null) await _postgres.DisposeAsync();
        if (Directory.Exists(ArtifactsDirectory)) Directory.Delete(ArtifactsDirectory, recursive: true);
        if (Path.GetDirectoryName(SigningKeyPath) is { } keyDirectory && Directory.Exists(keyDirectory)) Directory.Delete(keyDirectory, recursive: true);
        if (_dataDirectory is not null)
        {
            try { Directory.Delete(_dataDirectory, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }
}

[CollectionDefinition(Name)]
public sealed class AppCollection : ICollectionFixture<AppFixture>, ICollectionFixture<AzuriteFixture>
{
    public const string Name = "app";
}

/// <summary>
/// A second shared host on a PostgreSQL cluster of its own, run beside <see cref="AppCollection"/>: xUnit runs collections
/// in parallel, and the tests of one collection one after another, so one collection made the API tests a single chain
/// (about 7 min in CI; docs/testing.md "CI time"). The longest classes that need nothing but the shared host's settings
/// (no Azurite, no side host) are here: their own <c>[Collection(SecondAppCollection.Name)]</c> overrides <see cref="ApiTest"/>'s.
/// </summary>
[CollectionDefinition(Name)]
public sealed class SecondAppCollection : ICollectionFixture<AppFixture>
{
    public const string Name = "app-2";
}

/// <summary>Base for end-to-end tests: shared host, data reset before each test.</summary>
[Collection(AppCollection.Name)]
public abstract class ApiTest(AppFixture app) : IAsyncLifetime
{
    protected AppFixture App { get; } = app;
    protected IAlbaHost Host => App.Host;
    protected IDocumentStore Store => App.Store;

    public Task InitializeAsync() => App.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;
}
