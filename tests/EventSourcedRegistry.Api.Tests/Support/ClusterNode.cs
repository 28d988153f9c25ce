using Alba;
using EventSourcedRegistry.Api.Hosting;
using Microsoft.AspNetCore.Hosting;

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
    public static async Task<IAlbaHost> Start(string connectionString, string signingKeyPath, params (string Key, string Value)[] settings)
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
