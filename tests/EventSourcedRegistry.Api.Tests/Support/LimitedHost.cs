using Alba;
using Microsoft.AspNetCore.Hosting;

namespace EventSourcedRegistry.Api.Tests.Support;

/// <summary>
/// A third host with small limits, on a database of its own: rate limits that never refill during a test (per hour),
/// one upload at a time per caller, and a small artifact quota. Its tests call it with tokens, one fresh subject per
/// caller, so each caller starts with full buckets whatever ran before.
/// </summary>
public sealed partial class AppFixture
{
    public const int LimitedReadBurst = 20;
    public const int LimitedCommandBurst = 5;
    public const int LimitedUploadBurst = 3;
    public const long LimitedQuotaBytes = 100_000;

    private readonly SideHost _limited = new("esr_limited", "limited", builder => builder
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

    /// <summary>The limited host's database (valid once <see cref="LimitedHost"/> was called).</summary>
    public string LimitedConnectionString => _limited.ConnectionString;

    public string LimitedArtifactsDirectory => _limited.ArtifactsDirectory;

    /// <summary>The host with small limits, its data and artifacts reset: call it at the start of each of its tests.</summary>
    public Task<IAlbaHost> LimitedHost() => _limited.Use(this);

    /// <summary>A client of the limited host that calls as a new token subject with these roles: a caller with full buckets.</summary>
    public static HttpClient FreshCaller(IAlbaHost host, params string[] roles) =>
        host.ClientWithToken(Access.Token($"caller-{Guid.NewGuid():N}", roles));
}
