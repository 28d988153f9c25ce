using System.Security.Claims;
using System.Threading.RateLimiting;
using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Settings;
using EventSourcedRegistry.Settings;
using EventSourcedRegistry.Store;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;

namespace EventSourcedRegistry.Api.Tests.Limits;

/// <summary>
/// The limiter the API builds from its settings, without a host: the defaults let a pipeline fleet sharing one key (and
/// the benchmark harness's single admin key, though the harness turns limits off to measure capacity) through, and the
/// off-switch turns rate limits off.
/// </summary>
public sealed class when_choosing_rate_limits
{
    private static HttpContext Request(string method, string path, string? keyId = "fleet-key", string? actor = null)
    {
        var http = new DefaultHttpContext();
        http.Request.Method = method;
        http.Request.Path = path;
        if (keyId is not null)
            http.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(Callers.KeyIdClaim, keyId), new Claim(AccessClaims.Actor, "key:fleet")],
                ApiKeyAuthenticationHandler.SchemeName));
        else if (actor is not null)
            http.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(AccessClaims.Actor, actor)], "Bearer"));
        return http;
    }

    private static int Acquired(PartitionedRateLimiter<HttpContext> limiter, int count, Func<int, HttpContext> request)
    {
        var acquired = 0;
        for (var i = 0; i < count; i++)
            if (limiter.AttemptAcquire(request(i)).IsAcquired) acquired++;   // leases left held, as requests in flight
        return acquired;
    }

    [Fact]
    public void the_defaults_let_one_key_send_a_fleets_burst_of_reads_commands_and_uploads()
    {
        var settings = new RateLimitSettings();
        Assert.Equal(TimeSpan.FromSeconds(1), settings.Period);
        // The default bursts, with refills an hour apart: a stall of this shared machine mid-test must not refill a bucket.
        using var limiter = RateLimits.Create(new RateLimitSettings { Period = TimeSpan.FromHours(1) }, maxConcurrentUploads: 4)!;

        Assert.Equal(2000, Acquired(limiter, 2000, _ => Request("GET", "/api/v1/models/churn")));
        Assert.Equal(400, Acquired(limiter, 400, _ => Request("POST", "/api/v1/models/churn/versions")));
        Assert.Equal(4, Acquired(limiter, 4, _ => Request("POST", "/api/v1/artifacts")));
        // Past the burst, the same key waits; another key does not.
        Assert.Equal(0, Acquired(limiter, 1, _ => Request("POST", "/api/v1/models/churn/versions")));
        Assert.Equal(400, Acquired(limiter, 400, _ => Request("POST", "/api/v1/models/churn/versions", keyId: "other-key")));
        Assert.Equal((1000, 2000), settings.Of(RequestKind.Read));
        Assert.Equal((200, 400), settings.Of(RequestKind.Command));
        Assert.Equal((10, 20), settings.Of(RequestKind.Upload));
    }

    [Fact]
    public void callers_are_told_apart_by_key_id_and_a_token_cannot_claim_a_key_id()
    {
        var keyed = Request("GET", "/x", keyId: "k1");
        var token = new DefaultHttpContext
        {
            User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(Callers.KeyIdClaim, "k1"), new Claim(AccessClaims.Actor, "jwt:mallory")], "Bearer")),
        };

        Assert.Equal("key-id:k1", Callers.PartitionOf(keyed));
        Assert.Equal("jwt:mallory", Callers.PartitionOf(token));
        Assert.Equal("address:unknown", Callers.PartitionOf(new DefaultHttpContext()));
    }

    [Fact]
    public void health_and_the_openapi_document_are_never_limited()
    {
        using var limiter = RateLimits.Create(new RateLimitSettings { Reads = 1, ReadBurst = 1, Period = TimeSpan.FromHours(1) }, 0)!;

        Assert.Equal(100, Acquired(limiter, 100, _ => Request("GET", "/health/ready", keyId: null)));
        Assert.Equal(100, Acquired(limiter, 100, _ => Request("GET", "/openapi/v1.json", keyId: null)));
        Assert.Equal(1, Acquired(limiter, 100, _ => Request("GET", "/api/v1/models", keyId: null)));
    }

    [Fact]
    public void the_off_switch_lifts_rate_limits_and_leaves_the_upload_slots()
    {
        var off = new RateLimitSettings { Enabled = false };

        Assert.Null(RateLimits.Create(off, maxConcurrentUploads: 0));
        using var uploadsOnly = RateLimits.Create(off, maxConcurrentUploads: 2)!;
        Assert.Equal(10_000, Acquired(uploadsOnly, 10_000, _ => Request("POST", "/api/v1/models/churn/versions")));
        Assert.Equal(2, Acquired(uploadsOnly, 5, _ => Request("POST", "/api/v1/artifacts")));
    }

    /// <summary>Issue 20: one bucket per (workspace, caller, kind), sized by that workspace's limits; before, one per (caller, kind) across workspaces.</summary>
    [Fact]
    public void a_callers_buckets_are_per_workspace_and_sized_by_its_limits()
    {
        var settings = new RateLimitSettings { Period = TimeSpan.FromHours(1) };
        using var limiter = RateLimits.Create(settings, 0)!;
        var tight = EffectiveLimits.Resolve(new WorkspacePolicySet(null, null, new RateLimitsPolicy(null, null, 1, 2, null, null)), settings.Values, null, 1);
        var loose = EffectiveLimits.Resolve(null, settings.Values, null, 0);
        HttpContext In(string workspace, EffectiveLimits limits)
        {
            var http = Request("POST", "/api/v1/models/churn/versions");
            http.Features.Set(new WorkspaceLimitsFeature(WorkspaceId.Parse(workspace), limits));
            return http;
        }

        Assert.Equal(2, Acquired(limiter, 10, _ => In("team-a", tight)));
        // The same key, busy in team-a, is not held back in team-b, which keeps the configuration's limits.
        Assert.Equal(400, Acquired(limiter, 400, _ => In("team-b", loose)));
        // team-a raising its limits is a bucket of the new size at once.
        var raised = tight with { Commands = new(3, PolicySources.Workspace), CommandBurst = new(3, PolicySources.Workspace), Revision = 2 };
        Assert.Equal(3, Acquired(limiter, 10, _ => In("team-a", raised)));
    }

    [Theory]
    [InlineData("Registry:RateLimits:WorkspaceRefresh", "00:00:00")]
    [InlineData("Registry:RateLimits:Commands", "0")]
    [InlineData("Registry:RateLimits:ReadBurst", "-1")]
    [InlineData("Registry:RateLimits:Period", "00:00:00")]
    public void a_limit_below_one_stops_the_app_naming_the_setting(string setting, string value)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([new(setting, value)]).Build();

        var error = Assert.Throws<InvalidOperationException>(() => RateLimitSettings.From(configuration));

        Assert.Contains(setting, error.Message);
    }
}
