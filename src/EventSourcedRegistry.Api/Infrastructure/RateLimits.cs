using System.Globalization;
using System.Threading.RateLimiting;
using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Artifacts;
using Microsoft.AspNetCore.RateLimiting;

namespace EventSourcedRegistry.Api.Infrastructure;

/// <summary>
/// <c>Registry:RateLimits</c>: requests per <see cref="Period"/> (a second by default) per caller (an API key, a token's
/// subject, or for anonymous requests the remote address), by kind of request. Token buckets: a caller may send a
/// burst at once, then the rate. Each API node counts on its own.
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

    public static RateLimitSettings From(IConfiguration configuration)
    {
        var settings = configuration.GetSection(Section).Get<RateLimitSettings>() ?? new RateLimitSettings();
        if (settings.Period <= TimeSpan.Zero)
            throw new InvalidOperationException($"{Section}:Period must be a positive duration (hh:mm:ss), e.g. 00:00:01.");
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

    public string Describe(RequestKind kind)
    {
        var (perPeriod, burst) = Of(kind);
        var per = Period == TimeSpan.FromSeconds(1) ? "a second" : $"per {Period:c}";
        return $"{perPeriod} {per} after a burst of {burst}";
    }
}

public enum RequestKind { Read, Command, Upload }

/// <summary>
/// Per-caller limits on ASP.NET Core's rate limiter: a token bucket per caller and kind of request, and a concurrency
/// limit per caller on artifact uploads. Refusals are 429 ProblemDetails with <c>Retry-After</c>, before the endpoint
/// runs, so a refused request appends and stores nothing. Health probes and the OpenAPI document are not limited.
/// </summary>
public static class RateLimits
{
    public static RequestKind KindOf(HttpRequest request)
    {
        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method)) return RequestKind.Read;
        return HttpMethods.IsPost(request.Method) && IsUploadPath(request.Path) ? RequestKind.Upload : RequestKind.Command;
    }

    private static bool IsUploadPath(PathString path) =>
        path.StartsWithSegments("/api/v1/artifacts", out var rest) && (!rest.HasValue || rest.Value == "/");

    private static bool IsExempt(HttpRequest request) =>
        request.Path.StartsWithSegments("/health") || request.Path.StartsWithSegments("/openapi");

    /// <summary>The limiter for these settings; null when every limit is off.</summary>
    public static PartitionedRateLimiter<HttpContext>? Create(RateLimitSettings rates, int maxConcurrentUploads)
    {
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
            limiters.Add(PartitionedRateLimiter.Create<HttpContext, (RequestKind, string)>(http =>
            {
                if (IsExempt(http.Request)) return RateLimitPartition.GetNoLimiter((RequestKind.Read, ""));
                var kind = KindOf(http.Request);
                var (perPeriod, burst) = rates.Of(kind);
                return RateLimitPartition.GetTokenBucketLimiter((kind, Callers.PartitionOf(http)), _ => new TokenBucketRateLimiterOptions
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
        services.AddRateLimiter(options =>
        {
            options.GlobalLimiter = Create(rates, artifacts.MaxConcurrentUploadsPerCaller);
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = (context, _) => Refuse(context, rates, artifacts);
        });
        return services;
    }

    /// <summary>429 as ProblemDetails: which limit, and when to try again (a token bucket knows; an upload slot frees when an upload ends).</summary>
    private static async ValueTask Refuse(OnRejectedContext context, RateLimitSettings rates, ArtifactSettings artifacts)
    {
        var http = context.HttpContext;
        var kind = KindOf(http.Request);
        string detail;
        TimeSpan retryAfter;
        if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait))
        {
            retryAfter = wait;
            var noun = kind switch { RequestKind.Read => "reads", RequestKind.Upload => "uploads", _ => "commands" };
            detail = $"This caller sent more {noun} than its limit of {rates.Describe(kind)} ({RateLimitSettings.Section}); nothing was done. Retry after the seconds in Retry-After.";
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
