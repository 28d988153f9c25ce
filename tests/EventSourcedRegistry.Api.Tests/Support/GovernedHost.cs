using Alba;
using Marten;
using EventSourcedRegistry.Api.Hosting;
using EventSourcedRegistry.Audit;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Store;
using Npgsql;

namespace EventSourcedRegistry.Api.Tests.Support;

/// <summary>
/// The shared host runs with four-eyes approval off, so the many tests that promote to Production or move
/// <c>champion</c> keep testing those commands themselves. The approval tests need the product's default
/// (Production and champion protected): a second host, started on first use, on a database of its own in the same
/// cluster (so resets and the async daemon of one host never touch the other's data).
/// </summary>
public sealed partial class AppFixture
{
    private const string GovernedDatabase = "esr_governed";
    private IAlbaHost? _governed;
    private string? _governedConnectionString;
    private readonly SemaphoreSlim _governedStart = new(1, 1);

    public string GovernedArtifactsDirectory { get; } = Path.Combine(Path.GetTempPath(), $"esr-artifacts-governed-{Guid.NewGuid():N}");
    private string GovernedSigningKeyPath { get; } = Path.Combine(Path.GetTempPath(), $"esr-audit-key-governed-{Guid.NewGuid():N}", "audit-signing-key.pem");

    /// <summary>The host with default approvals, its data reset: call it at the start of each approval test.</summary>
    public async Task<IAlbaHost> GovernedHost()
    {
        await _governedStart.WaitAsync();
        try
        {
            if (_governed is null)
            {
                _governedConnectionString = await CreateDatabase(GovernedDatabase);
                var variable = $"ConnectionStrings__{RegistryDatabase.ConnectionStringName}";
                var shared = Environment.GetEnvironmentVariable(variable);
                // Program reads the connection string before it builds the host; point it at the other database meanwhile.
                Environment.SetEnvironmentVariable(variable, _governedConnectionString);
                try
                {
                    _governed = await AlbaHost.For<Program>(builder =>
                        builder.UseSetting("Logging:LogLevel:Default", "Warning")
                            .UseSetting("Registry:Artifacts:Directory", GovernedArtifactsDirectory)
                            .UseSetting("Registry:Audit:SigningKeyPath", GovernedSigningKeyPath)
                            .UseSetting("Registry:BootstrapAdminKey", AdminKey)
                            .UseSetting("Registry:Auth:Jwt:SigningKey", JwtSigningKey)
                            .UseSetting("Registry:Auth:Jwt:Issuer", JwtIssuer)
                            .UseSetting("Registry:Auth:Jwt:Audience", JwtAudience));
                }
                finally
                {
                    Environment.SetEnvironmentVariable(variable, shared);
                }
            }
        }
        finally
        {
            _governedStart.Release();
        }

        await _governed.ResetAllMartenDataAsync();
        await using var connection = new NpgsqlConnection(_governedConnectionString);
        await connection.OpenAsync();
        await using var truncate = new NpgsqlCommand(
            $"truncate table {string.Join(", ", AuditTrail.Tables.Prepend(DeploymentHistory.QualifiedTable(RegistryStore.Schema)).Prepend(RegistryStates.QualifiedTable(RegistryStore.Schema)).Prepend(ModelSnapshots.QualifiedTable(RegistryStore.Schema)))}", connection);
        await truncate.ExecuteNonQueryAsync();
        return _governed;
    }

    private async Task<string> CreateDatabase(string database)
    {
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
        await using (var connection = new NpgsqlConnection(ConnectionString))
        {
            await connection.OpenAsync();
            await using var exists = new NpgsqlCommand($"select 1 from pg_database where datname = '{database}'", connection);
            if (await exists.ExecuteScalarAsync() is null)
            {
                await using var create = new NpgsqlCommand($"create database {database}", connection);
                await create.ExecuteNonQueryAsync();
            }
        }
        builder.Database = database;
        return builder.ConnectionString;
    }

    private async Task DisposeGovernedHostAsync()
    {
        if (_governed is not null) await _governed.DisposeAsync();
        if (Directory.Exists(GovernedArtifactsDirectory)) Directory.Delete(GovernedArtifactsDirectory, recursive: true);
        if (Path.GetDirectoryName(GovernedSigningKeyPath) is { } keyDirectory && Directory.Exists(keyDirectory)) Directory.Delete(keyDirectory, recursive: true);
    }
}
