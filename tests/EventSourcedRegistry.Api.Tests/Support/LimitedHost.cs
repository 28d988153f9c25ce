using Alba;
using Marten;
using EventSourcedRegistry.Api.Hosting;
using EventSourcedRegistry.Audit;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Store;
using Npgsql;

namespace EventSourcedRegistry.Api.Tests.Support;

/// <summary>
/// A third host with small limits, on a database of its own in the same cluster: rate limits that never refill during a
/// test (per hour), one upload at a time per caller, and a small artifact quota. Its tests call it with tokens, one
/// fresh subject per caller, so each caller starts with full buckets whatever ran before.
/// </summary>
public sealed partial class AppFixture
{
    private const string LimitedDatabase = "esr_limited";
    private IAlbaHost? _limited;
    private string? _limitedConnectionString;
    private readonly SemaphoreSlim _limitedStart = new(1, 1);

    public const int LimitedReadBurst = 20;
    public const int LimitedCommandBurst = 5;
    public const int LimitedUploadBurst = 3;
    public const long LimitedQuotaBytes = 100_000;

    /// <summary>The limited host's database (valid once <see cref="LimitedHost"/> was called).</summary>
    public string LimitedConnectionString => _limitedConnectionString ?? throw new InvalidOperationException("The limited host has not started.");

    public string LimitedArtifactsDirectory { get; } = Path.Combine(Path.GetTempPath(), $"esr-artifacts-limited-{Guid.NewGuid():N}");
    private string LimitedSigningKeyPath { get; } = Path.Combine(Path.GetTempPath(), $"esr-audit-key-limited-{Guid.NewGuid():N}", "audit-signing-key.pem");

    /// <summary>The host with small limits, its data and artifacts reset: call it at the start of each of its tests.</summary>
    public async Task<IAlbaHost> LimitedHost()
    {
        await _limitedStart.WaitAsync();
        try
        {
            if (_limited is null)
            {
                _limitedConnectionString = await CreateDatabase(LimitedDatabase);
                var variable = $"ConnectionStrings__{RegistryDatabase.ConnectionStringName}";
                var shared = Environment.GetEnvironmentVariable(variable);
                Environment.SetEnvironmentVariable(variable, _limitedConnectionString);
                try
                {
                    _limited = await AlbaHost.For<Program>(builder =>
                        builder.UseSetting("Logging:LogLevel:Default", "Warning")
                            .UseSetting("Registry:Artifacts:Directory", LimitedArtifactsDirectory)
                            .UseSetting("Registry:Audit:SigningKeyPath", LimitedSigningKeyPath)
                            .UseSetting("Registry:BootstrapAdminKey", AdminKey)
                            .UseSetting("Registry:Auth:Jwt:SigningKey", JwtSigningKey)
                            .UseSetting("Registry:Auth:Jwt:Issuer", JwtIssuer)
                            .UseSetting("Registry:Auth:Jwt:Audience", JwtAudience)
                            .UseSetting("Registry:Approvals:ProtectedStages", "")
                            .UseSetting("Registry:Approvals:ProtectedAliases", "")
                            .UseSetting("Registry:RateLimits:Period", "01:00:00")
                            .UseSetting("Registry:RateLimits:Reads", "1")
                            .UseSetting("Registry:RateLimits:ReadBurst", LimitedReadBurst.ToString())
                            .UseSetting("Registry:RateLimits:Commands", "1")
                            .UseSetting("Registry:RateLimits:CommandBurst", LimitedCommandBurst.ToString())
                            .UseSetting("Registry:RateLimits:Uploads", "1")
                            .UseSetting("Registry:RateLimits:UploadBurst", LimitedUploadBurst.ToString())
                            .UseSetting("Registry:Artifacts:MaxConcurrentUploadsPerCaller", "1")
                            .UseSetting("Registry:Artifacts:QuotaBytes", LimitedQuotaBytes.ToString()));
                }
                finally
                {
                    Environment.SetEnvironmentVariable(variable, shared);
                }
            }
        }
        finally
        {
            _limitedStart.Release();
        }

        await _limited.ResetAllMartenDataAsync();
        await using (var connection = new NpgsqlConnection(_limitedConnectionString))
        {
            await connection.OpenAsync();
            await using var truncate = new NpgsqlCommand(
                $"truncate table {string.Join(", ", AuditTrail.Tables.Prepend(DeploymentHistory.QualifiedTable(RegistryStore.Schema)).Prepend(RegistryStates.QualifiedTable(RegistryStore.Schema)).Prepend(ModelSnapshots.QualifiedTable(RegistryStore.Schema)))}", connection);
            await truncate.ExecuteNonQueryAsync();
        }
        if (Directory.Exists(LimitedArtifactsDirectory)) Directory.Delete(LimitedArtifactsDirectory, recursive: true);
        return _limited;
    }

    /// <summary>A client of the limited host that calls as a new token subject with these roles: a caller with full buckets.</summary>
    public static HttpClient FreshCaller(IAlbaHost host, params string[] roles) =>
        host.ClientWithToken(Access.Token($"caller-{Guid.NewGuid():N}", roles));

    private async Task DisposeLimitedHostAsync()
    {
        if (_limited is not null) await _limited.DisposeAsync();
        if (Directory.Exists(LimitedArtifactsDirectory)) Directory.Delete(LimitedArtifactsDirectory, recursive: true);
        if (Path.GetDirectoryName(LimitedSigningKeyPath) is { } keyDirectory && Directory.Exists(keyDirectory)) Directory.Delete(keyDirectory, recursive: true);
    }
}
