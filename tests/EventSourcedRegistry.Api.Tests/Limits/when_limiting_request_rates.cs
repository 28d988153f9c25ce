using System.Net.Http.Headers;
using Alba;
using EventSourcedRegistry.Api.Tests.Support;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedRegistry.Api.Tests.Limits;

/// <summary>
/// Issue 13, item 8: per-caller rate limits, on the limited host (buckets of 20 reads, 5 commands and 3 uploads that
/// refill once an hour, so nothing refills during a test). On main one key could send without limit.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class when_limiting_request_rates(AppFixture app)
{
    private async Task<(IAlbaHost Host, IDocumentStore Store)> Limited()
    {
        var host = await app.LimitedHost();
        return (host, host.Services.GetRequiredService<IDocumentStore>());
    }

    private static object Version(int i) => new { artifact = new { uri = $"s3://models/churn/{i}.onnx", sha256 = RegistryCalls.Sha256A, sizeBytes = 10 } };

    private static async Task GivenChurn(IAlbaHost host)
    {
        using var setup = AppFixture.FreshCaller(host, "contributor");
        Assert.Equal(201, (await setup.Send(HttpMethod.Post, "/api/v1/models", new { name = "churn" })).Status);
    }

    private static void AssertTooManyRequests(RegistryCalls.Response response)
    {
        var problem = response.AssertProblem(429);
        Assert.Contains("Registry:RateLimits", problem["detail"]!.GetValue<string>());
        var retryAfter = response.Raw.Headers.RetryAfter?.Delta;
        Assert.True(retryAfter is { } wait && wait >= TimeSpan.FromSeconds(1) && wait <= TimeSpan.FromHours(1), $"Retry-After: {response.Raw.Headers.RetryAfter}");
    }

    [Fact]
    public async Task commands_past_the_burst_are_429_with_retry_after_and_append_nothing()
    {
        var (host, store) = await Limited();
        await GivenChurn(host);
        using var pipeline = AppFixture.FreshCaller(host, "contributor:churn");

        for (var i = 1; i <= AppFixture.LimitedCommandBurst; i++)
            Assert.Equal(201, (await pipeline.Send(HttpMethod.Post, "/api/v1/models/churn/versions", Version(i))).Status);
        var before = await store.TotalEvents();

        AssertTooManyRequests(await pipeline.Send(HttpMethod.Post, "/api/v1/models/churn/versions", Version(99)));
        AssertTooManyRequests(await pipeline.Send(HttpMethod.Post, "/api/v1/models/churn/versions/1/stage", new { stage = "Staging" }));
        AssertTooManyRequests(await pipeline.Send(HttpMethod.Patch, "/api/v1/models/churn", new { description = "x" }));

        Assert.Equal(before, await store.TotalEvents());
        Assert.Equal(1 + AppFixture.LimitedCommandBurst, await store.StreamLength("churn"));
    }

    [Fact]
    public async Task a_caller_past_its_command_limit_still_reads_and_other_callers_are_not_refused()
    {
        var (host, store) = await Limited();
        await GivenChurn(host);
        using var noisy = AppFixture.FreshCaller(host, "contributor:churn");
        using var quiet = AppFixture.FreshCaller(host, "contributor:churn");
        for (var i = 0; i < AppFixture.LimitedCommandBurst; i++)
            await noisy.Send(HttpMethod.Patch, "/api/v1/models/churn", new { description = $"edit {i}" });
        AssertTooManyRequests(await noisy.Send(HttpMethod.Patch, "/api/v1/models/churn", new { description = "one more" }));

        var before = await store.TotalEvents();

        Assert.Equal(200, (await noisy.Send(HttpMethod.Get, "/api/v1/models/churn")).Status);
        Assert.Equal(201, (await quiet.Send(HttpMethod.Post, "/api/v1/models/churn/versions", Version(1))).Status);
        Assert.Equal(before + 1, await store.TotalEvents());
    }

    [Fact]
    public async Task reads_past_their_burst_are_429()
    {
        var (host, _) = await Limited();
        await GivenChurn(host);
        using var reader = AppFixture.FreshCaller(host, "reader");

        for (var i = 0; i < AppFixture.LimitedReadBurst; i++)
            Assert.Equal(200, (await reader.Send(HttpMethod.Get, "/api/v1/models/churn")).Status);

        AssertTooManyRequests(await reader.Send(HttpMethod.Get, "/api/v1/models/churn"));
        var head = await reader.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/api/v1/artifacts/{RegistryCalls.Sha256A}"));
        Assert.Equal(429, (int)head.StatusCode);
    }

    [Fact]
    public async Task uploads_past_their_burst_are_429_and_store_nothing()
    {
        var (host, store) = await Limited();
        using var pipeline = AppFixture.FreshCaller(host, "contributor");

        for (var i = 0; i < AppFixture.LimitedUploadBurst; i++)
            Assert.Equal(201, (await Upload(pipeline, TestContent.Bytes(2000 + i, 100))).Status);
        var refused = TestContent.Bytes(2999, 100);
        AssertTooManyRequests(await Upload(pipeline, refused));

        Assert.False(File.Exists(Path.Combine(app.LimitedArtifactsDirectory, "sha256", TestContent.Sha256(refused))));
        Assert.Equal(AppFixture.LimitedUploadBurst, Directory.GetFiles(Path.Combine(app.LimitedArtifactsDirectory, "sha256")).Length);
        // Commands keep their own bucket.
        Assert.Equal(201, (await pipeline.Send(HttpMethod.Post, "/api/v1/models", new { name = "churn" })).Status);
        Assert.Equal(1, await store.TotalEvents());
    }

    [Fact]
    public async Task anonymous_callers_share_a_bucket_by_address_and_health_probes_are_never_limited()
    {
        var (host, _) = await Limited();
        using var anonymous = host.AnonymousClient();

        var statuses = new List<int>();
        for (var i = 0; i <= AppFixture.LimitedReadBurst; i++) statuses.Add((await anonymous.Send(HttpMethod.Get, "/api/v1/models")).Status);
        for (var i = 0; i < 3 * AppFixture.LimitedReadBurst; i++)
            Assert.Equal(200, (int)(await anonymous.GetAsync("/health/live")).StatusCode);

        // 401 while the address has tokens, then 429: a flood of bad credentials stops before authorization.
        Assert.All(statuses.Take(AppFixture.LimitedReadBurst), s => Assert.Equal(401, s));
        Assert.Equal(429, statuses[^1]);
        using var keyed = AppFixture.FreshCaller(host, "reader");
        Assert.Equal(200, (await keyed.Send(HttpMethod.Get, "/api/v1/models")).Status);
    }

    [Fact]
    public async Task a_pipeline_within_its_limits_is_never_refused()
    {
        var (host, store) = await Limited();
        await GivenChurn(host);
        using var pipeline = AppFixture.FreshCaller(host, "contributor:churn");

        var uploaded = await Upload(pipeline, TestContent.Bytes(2100, 5000));
        var sha256 = uploaded.Body!["sha256"]!.GetValue<string>();
        var steps = new List<RegistryCalls.Response>
        {
            uploaded,
            await pipeline.Send(HttpMethod.Get, $"/api/v1/artifacts/{sha256}/verify"),
            await pipeline.Send(HttpMethod.Post, "/api/v1/models/churn/versions", new { artifact = new { sha256 }, metrics = new { auc = 0.91 } }),
            await pipeline.Send(HttpMethod.Get, "/api/v1/models/churn/aliases/champion"),
            await pipeline.Send(HttpMethod.Post, "/api/v1/models/churn/versions/1/stage", new { stage = "Staging" }),
            await pipeline.Send(HttpMethod.Put, "/api/v1/models/churn/aliases/champion", new { version = 1 }),
            await pipeline.Send(HttpMethod.Get, "/api/v1/models/churn"),
        };

        Assert.All(steps, s => Assert.True(s.Status is 200 or 201 or 404, $"{s.Status} {s.Body}"));
        Assert.DoesNotContain(steps, s => s.Status == 429);
        Assert.Equal(4, await store.StreamLength("churn"));
    }

    private static async Task<RegistryCalls.Response> Upload(HttpClient client, byte[] bytes)
    {
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return await RegistryCalls.Read(await client.PostAsync("/api/v1/artifacts", content));
    }
}
