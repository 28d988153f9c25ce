using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.Artifacts;

/// <summary>
/// A deleted model leaves the current views, but its history still names its bytes: an orphan sweep must not take them
/// (it judged by the views, so the bytes of a deleted model's versions counted as orphans and could be deleted while
/// as-of reads still named their digest).
/// </summary>
public sealed class when_sweeping_orphans_after_a_deletion(AppFixture app) : ApiTest(app)
{
    [Fact]
    public async Task the_bytes_a_deleted_version_named_are_kept_and_only_true_orphans_go()
    {
        var named = await Host.UploadOk(TestContent.Bytes(42, 300));
        var orphan = await Host.UploadOk(TestContent.Bytes(43, 500));
        await Host.RegisterModel("churn");
        Assert.Equal(201, (await Host.Post("/api/v1/models/churn/versions", new { artifact = new { sha256 = named } })).Status);
        var deleted = await Host.Send(HttpMethod.Delete, "/api/v1/models/churn?reason=retired");
        Assert.True(deleted.Status == 204, $"{deleted.Status} {deleted.Body}");

        var listed = await Host.Get("/api/v1/admin/artifacts/orphans");
        var swept = await Host.Send(HttpMethod.Delete, "/api/v1/admin/artifacts/orphans?olderThan=0s");

        Assert.Equal([orphan], listed.Body!["orphans"]!.AsArray().Select(o => o!["sha256"]!.GetValue<string>()));
        Assert.Equal([orphan], swept.Body!["deleted"]!.AsArray().Select(o => o!["sha256"]!.GetValue<string>()));
        Assert.Equal(200, (await Host.Get($"/api/v1/artifacts/{named}/verify")).Status);
    }
}
