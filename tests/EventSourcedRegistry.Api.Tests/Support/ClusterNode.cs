using Alba;
using EventSourcedRegistry.Api.Hosting;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EventSourcedRegistry.Api.Tests.Support;

/// <summary>
/// Nodes of one registry cluster: API hosts, each with its own service provider, on one database of the shared PostgreSQL
/// (a fresh one per test, so no node of another test and no message of an earlier one is in it). Wolverine's timings are
/// short (<c>Registry:Messaging</c>), so elections, failover and scheduled messages take a second, not the production minute.
/// </summary>
public static class ClusterNode
{
    public static async Task<string> NewDatabase(AppFixture app, string name) =>
        await SideHost.CreateDatabase(app.ConnectionString, $"esr_{name}_{Guid.NewGuid():N}"[..40]);

    /// <summary>Starts a node on <paramref name="connectionString"/>; <paramref name="signingKeyPath"/> is shared by the nodes of a cluster.</summary>
    public static Task<IAlbaHost> Start(string connectionString, string signingKeyPath, params (string Key, string Value)[] settings) =>
        StartNode(connectionString, signingKeyPath, null, settings);

    /// <summary>
    /// Starts a node whose stop, once begun, is held by <paramref name="gate"/> before the node's own hosted services stop
    /// (Wolverine's among them): a node slow to stop, as one is when other services take their time.
    /// </summary>
    public static Task<IAlbaHost> StartSlowToStop(string connectionString, string signingKeyPath, StopGate gate) =>
        StartNode(connectionString, signingKeyPath, services => services.AddSingleton<IHostedService>(gate), []);

    private static async Task<IAlbaHost> StartNode(string connectionString, string signingKeyPath, Action<IServiceCollection>? services,
        (string Key, string Value)[] settings)
    {
        var variable = $"ConnectionStrings__{RegistryDatabase.ConnectionStringName}";
        var shared = Environment.GetEnvironmentVariable(variable);
        // Program reads the connection string before it builds the host; point it at this cluster's database meanwhile.
        Environment.SetEnvironmentVariable(variable, connectionString);
        try
        {
            return await AlbaHost.For<Program>(builder =>
            {
                builder
                    .UseSetting("Logging:LogLevel:Default", "Warning")
                    .UseSetting("Registry:Artifacts:Directory", Path.Combine(Path.GetTempPath(), $"esr-artifacts-node-{Guid.NewGuid():N}"))
                    .UseSetting("Registry:Audit:SigningKeyPath", signingKeyPath)
                    .UseSetting("Registry:BootstrapAdminKey", AppFixture.AdminKey)
                    .UseSetting("Registry:Auth:Jwt:SigningKey", AppFixture.JwtSigningKey)
                    .UseSetting("Registry:Auth:Jwt:Issuer", AppFixture.JwtIssuer)
                    .UseSetting("Registry:Auth:Jwt:Audience", AppFixture.JwtAudience)
                    .UseSetting("Registry:RateLimits:Enabled", "false")
                    .UseSetting("Registry:Audit:CheckpointInterval", "00:00:00")
                    .UseSetting("Registry:Messaging:PollingInterval", "00:00:00.2")
                    .UseSetting("Registry:Messaging:HeartbeatInterval", "00:00:00.5")
                    .UseSetting("Registry:Messaging:StaleNodeAfter", "00:00:02");
                foreach (var (key, value) in settings) builder.UseSetting(key, value);
                // Registered after the app's own services, so the host stops it before them.
                if (services is not null) builder.ConfigureServices(services);
            });
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, shared);
        }
    }

    public static string NewSigningKeyPath() => Path.Combine(Path.GetTempPath(), $"esr-audit-key-node-{Guid.NewGuid():N}", "audit-signing-key.pem");

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="within"/> passes (a loaded machine is slow).</summary>
    public static async Task<bool> Eventually(Func<Task<bool>> condition, TimeSpan within)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (watch.Elapsed < within)
        {
            if (await condition()) return true;
            await Task.Delay(100);
        }
        return await condition();
    }
}

/// <summary>
/// A hosted service whose stop waits until <see cref="Open"/> (two minutes at most, so a failing test cannot hang the run):
/// the host stops its services one by one, the last registered first, so every service registered before it waits too.
/// </summary>
public sealed class StopGate : IHostedService
{
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Open() => _open.TrySetResult();

    public Task StartAsync(CancellationToken ct) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken ct)
    {
        try { await _open.Task.WaitAsync(TimeSpan.FromMinutes(2)); }
        catch (TimeoutException) { }
    }
}
