using System.Globalization;
using System.Threading.RateLimiting;
using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Artifacts;
using EventSourcedRegistry.Api.Settings;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Settings;
using Microsoft.AspNetCore.RateLimiting;

namespace EventSourcedRegistry.Api.Infrastructure;

/// <summary>
/// <c>Registry:RateLimits</c>: requests per <see cref="Period"/> (a second by default) per caller (an API key, a token's
/// subject, or for anonymous requests the remote address) in each workspace, by kind of request. Token buckets: a caller
/// may send a burst at once, then the rate. Each API node counts on its own. A workspace's policy may set its own counts
/// (<see cref="EffectiveLimits"/>); the period and the switch stay the deployment's.
/// </summary>
public sealed class RateLimitSettings
{
    public const string Section = "Registry:RateLimits";

    public bool Enabled { get; set; } = true;
    public TimeSpan Period { get; set; } = TimeSpan.FromSeconds(1);
    public int Reads { get; set; } = 1000;
    public int ReadBurst { get; set; } = 2000;
    public int Commands { get; set; } = 200;
    public int CommandBurst { get; set; } = 400;
    public int Uploads { get; set; } = 10;
    public int UploadBurst { get; set; } = 20;

    /// <summary>How old this node's copy of a workspace's own limits may grow before it is read again (see <see cref="WorkspaceLimits"/>).</summary>
    public TimeSpan WorkspaceRefresh { get; set; } = TimeSpan.FromSeconds(5);

    public RateLimitValues Values => new(Reads, ReadBurst, Commands, CommandBurst, Uploads, UploadBurst);

    public static RateLimitSettings From(IConfiguration configuration)
    {
        var settings = configuration.GetSection(Section).Get<RateLimitSettings>() ?? new RateLimitSettings();
        if (settings.Period <= TimeSpan.Zero)
            throw new InvalidOperationException($"{Section}:Period must be a positive duration (hh:mm:ss), e.g. 00:00:01.");
        if (settings.WorkspaceRefresh <= TimeSpan.Zero)
            throw new InvalidOperationException($"{Section}:WorkspaceRefresh must be a positive duration (hh:mm:ss), e.g. 00:00:05.");
        foreach (var (name, value) in new[]
                 {
                     (nameof(Reads), settings.Reads), (nameof(ReadBurst), settings.ReadBurst),
                     (nameof(Commands), settings.Commands), (nameof(CommandBurst), settings.CommandBurst),
                     (nameof(Uploads), settings.Uploads), (nameof(UploadBurst), settings.UploadBurst),
                 })
        {
            if (value < 1) throw new InvalidOperationException($"{Section}:{name} must be at least 1 (set {Section}:Enabled=false to turn rate limits off).");
        }
        return settings;
    }

    public (int PerPeriod, int Burst) Of(RequestKind kind) => kind switch
    {
        RequestKind.Read => (Reads, ReadBurst),
        RequestKind.Upload => (Uploads, UploadBurst),
        _ => (Commands, CommandBurst),
    };

    /// <summary>The rate and burst of <paramref name="kind"/> in <paramref name="limits"/>, and where the pair comes from.</summary>
    public static (int PerPeriod, int Burst, bool Workspace) Of(EffectiveLimits limits, RequestKind kind)
    {
        var (rate, burst) = kind switch
        {
            RequestKind.Read => (limits.Reads, limits.ReadBurst),
            RequestKind.Upload => (limits.Uploads, limits.UploadBurst),
            _ => (limits.Commands, limits.CommandBurst),
        };
        return (rate.Value, burst.Value, rate.Source == PolicySources.Workspace || burst.Source == PolicySources.Workspace);
    }

    public string Describe(EffectiveLimits limits, RequestKind kind)
    {
        var (perPeriod, burst, _) = Of(limits, kind);
        var per = Period == TimeSpan.FromSeconds(1) ? "a second" : $"per {Period:c}";
        return $"{perPeriod} {per} after a burst of {burst}";
    }
}

public enum RequestKind { Read, Command, Upload }

/// <summary>
/// Per-caller limits on ASP.NET Core's rate limiter: a token bucket per workspace, caller and kind of request, sized by
/// the workspace's effective limits (<see cref="WorkspaceLimitsFeature"/>, set by <see cref="UseWorkspaceLimits"/>), and a
/// concurrency limit per caller on artifact uploads. Refusals are 429 ProblemDetails with <c>Retry-After</c>, before the endpoint
/// runs, so a refused request appends and stores nothing. Health probes and the OpenAPI document are not limited.
/// </summary>
public static class RateLimits
{
    public static RequestKind KindOf(HttpRequest request)
    {
        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method)) return RequestKind.Read;
        if (HttpMethods.IsPost(request.Method) && IsUploadPath(request.Path)) return RequestKind.Upload;
        // MLflow's artifact proxy takes a file's bytes by PUT (the path already canonical: addressing runs first).
        return HttpMethods.IsPut(request.Method) && request.Path.StartsWithSegments(Mlflow.MlflowRoutes.ArtifactsPrefix + "/artifacts")
            ? RequestKind.Upload
            : RequestKind.Command;
    }

    private static bool IsUploadPath(PathString path) =>
        path.StartsWithSegments("/api/v1/artifacts", out var rest) && (!rest.HasValue || rest.Value == "/");

    private static bool IsExempt(HttpRequest request) =>
        request.Path.StartsWithSegments("/health") || request.Path.StartsWithSegments("/openapi");

    /// <summary>
    /// A token bucket's partition. The limits are part of the key, so a workspace's change of limits takes effect at its
    /// next request with a bucket of the new size (full: a change never leaves a caller owing tokens it was not told of);
    /// the old bucket idles out as the rate limiter disposes of idle ones.
    /// </summary>
    private readonly record struct Bucket(RequestKind Kind, string Workspace, string Caller, int PerPeriod, int Burst);

    /// <summary>The limiter for these settings; null when every limit is off.</summary>
    public static PartitionedRateLimiter<HttpContext>? Create(RateLimitSettings rates, int maxConcurrentUploads, EffectiveLimits? configured = null)
    {
        var defaults = configured ?? EffectiveLimits.Resolve(null, rates.Values, null, 0);
        var limiters = new List<PartitionedRateLimiter<HttpContext>>();
        if (maxConcurrentUploads > 0)
        {
            limiters.Add(PartitionedRateLimiter.Create<HttpContext, string>(http =>
                KindOf(http.Request) == RequestKind.Upload && !IsExempt(http.Request)
                    ? RateLimitPartition.GetConcurrencyLimiter(Callers.PartitionOf(http),
                        _ => new ConcurrencyLimiterOptions { PermitLimit = maxConcurrentUploads, QueueLimit = 0 })
                    : RateLimitPartition.GetNoLimiter("")));
        }
        if (rates.Enabled)
        {
            limiters.Add(PartitionedRateLimiter.Create<HttpContext, Bucket>(http =>
            {
                if (IsExempt(http.Request)) return RateLimitPartition.GetNoLimiter(default(Bucket));
                var kind = KindOf(http.Request);
                // Outside every workspace (the directory, the platform's keys) and before authentication: the configuration's.
                var (workspace, limits) = http.Features.Get<WorkspaceLimitsFeature>() is { } own ? (own.Workspace.Slug, own.Limits) : ("", defaults);
                var (perPeriod, burst, _) = RateLimitSettings.Of(limits, kind);
                return RateLimitPartition.GetTokenBucketLimiter(new Bucket(kind, workspace, Callers.PartitionOf(http), perPeriod, burst), _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = burst,
                    TokensPerPeriod = perPeriod,
                    ReplenishmentPeriod = rates.Period,
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            }));
        }
        return limiters.Count switch
        {
            0 => null,
            1 => limiters[0],
            _ => PartitionedRateLimiter.CreateChained(limiters.ToArray()),
        };
    }

    public static IServiceCollection AddRegistryRateLimits(this IServiceCollection services, RateLimitSettings rates, ArtifactSettings artifacts)
    {
        services.AddSingleton(rates);
        services.AddSingleton<WorkspaceLimits>();
        var configured = EffectiveLimits.Resolve(null, rates.Values, artifacts.QuotaBytes, 0);
        services.AddRateLimiter(options =>
        {
            options.GlobalLimiter = Create(rates, artifacts.MaxConcurrentUploadsPerCaller, configured);
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = (context, _) => Refuse(context, rates, artifacts, configured);
        });
        return services;
    }

    /// <summary>
    /// After the membership check (so only a member's request of a workspace that exists gets here, and no stranger's
    /// slug costs a read), before the rate limiter: the request's workspace's limits, from this node's copy.
    /// </summary>
    public static IApplicationBuilder UseWorkspaceLimits(this IApplicationBuilder app)
    {
        if (!app.ApplicationServices.GetRequiredService<RateLimitSettings>().Enabled) return app;
        var limits = app.ApplicationServices.GetRequiredService<WorkspaceLimits>();
        return app.Use(async (http, next) =>
        {
            if (http.User.Identity is { IsAuthenticated: true } && !WorkspaceMembership.OutsideWorkspaces(http))
            {
                var workspace = http.Workspace();
                http.Features.Set(new WorkspaceLimitsFeature(workspace, await limits.CurrentAsync(workspace, http.RequestAborted)));
            }
            await next(http);
        });
    }

    /// <summary>429 as ProblemDetails: which limit, and when to try again (a token bucket knows; an upload slot frees when an upload ends).</summary>
    private static async ValueTask Refuse(OnRejectedContext context, RateLimitSettings rates, ArtifactSettings artifacts, EffectiveLimits configured)
    {
        var http = context.HttpContext;
        var kind = KindOf(http.Request);
        string detail;
        TimeSpan retryAfter;
        if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait))
        {
            retryAfter = wait;
            var noun = kind switch { RequestKind.Read => "reads", RequestKind.Upload => "uploads", _ => "commands" };
            var limits = http.Features.Get<WorkspaceLimitsFeature>()?.Limits ?? configured;
            var source = RateLimitSettings.Of(limits, kind).Workspace ? "the workspace's policy, rateLimits" : RateLimitSettings.Section;
            detail = $"This caller sent more {noun} than its limit of {rates.Describe(limits, kind)} ({source}); nothing was done. Retry after the seconds in Retry-After.";
        }
        else
        {
            retryAfter = TimeSpan.FromSeconds(1);
            detail = $"This caller already has {artifacts.MaxConcurrentUploadsPerCaller} uploads in progress, its limit ({ArtifactSettings.Section}:MaxConcurrentUploadsPerCaller); nothing was stored. Retry when one of them has finished.";
        }
        var seconds = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds));
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await Problems.Problem(StatusCodes.Status429TooManyRequests, "Too many requests", detail).ExecuteAsync(http);
    }
}
