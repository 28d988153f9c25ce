using System.Globalization;
using EventSourcedRegistry.Api.Audit;
using EventSourcedRegistry.Api.Tests.Support;
using JasperFx.Events.Daemon;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedRegistry.Api.Tests.Workspaces;

/// <summary>
/// The async daemon's high-water mark falls behind under load and with many workspaces (docs/design/workspaces.md §5 #8).
/// Reads of the present and of past points must not depend on it: a point is settled as soon as every transaction that
/// could still commit at or below it has ended. Here whatever keeps the mark (the audit worker, or the daemon) is paused,
/// so the mark does not move at all.
/// Before the fix a read of the present answered the state at the stale mark (the registry without the model just
/// registered) and a read at the model's last sequence was refused 503 "Not settled yet".
/// </summary>
public sealed class when_the_daemon_falls_behind(AppFixture app) : WorkspaceTest(app)
{
    [Fact]
    public async Task the_present_and_settled_points_are_answered_without_the_daemons_high_water_mark()
    {
        // Whichever keeps the mark (the audit worker by default, Marten's daemon with Registry:Audit:Worker=false) is held.
        await using var held = await HoldTheMark();
        {
            Assert.Equal(201, (await Post("/api/v1/models", new { name = "churn" })).Status);
            Assert.Equal(201, (await Post("/api/v1/models/churn/versions",
                new { artifact = new { uri = "s3://m/churn.onnx", sha256 = RegistryCalls.Sha256A, sizeBytes = 1 } })).Status);
            var last = (await App.SqlListOn<long>(App.WorkspacesConnectionString,
                "select coalesce(max(seq_id), 0) from registry.mt_events where tenant_id = 'default'")).Single();
            var mark = (await App.SqlListOn<long>(App.WorkspacesConnectionString,
                "select coalesce(max(last_seq_id), 0) from registry.mt_event_progression where name = 'HighWaterMark:default'")).DefaultIfEmpty(0).Single();
            Assert.True(mark < last, $"the daemon's mark {mark} already covers the writes (last sequence {last}): the test shows nothing");

            var registry = await Get("/api/v1/registry");
            Assert.True(registry.Status == 200, $"{registry.Status} {registry.Body}");
            Assert.Equal(["churn"], registry.Body!["items"]!.AsArray().Select(m => m!["model"]!.GetValue<string>()));
            Assert.Equal(last, registry.Body["asOfSequence"]!.GetValue<long>());

            var atLast = await Get($"/api/v1/models/churn?atSequence={last}");
            Assert.True(atLast.Status == 200, $"{atLast.Status} {atLast.Body}");
            Assert.Equal(last, atLast.Body!["asOfSequence"]!.GetValue<long>());

            await Task.Delay(100);
            var instant = DateTimeOffset.UtcNow.AddMilliseconds(-50).ToString("O", CultureInfo.InvariantCulture);
            var asOf = await Get($"/api/v1/models/churn?asOf={Uri.EscapeDataString(instant)}");
            Assert.True(asOf.Status == 200, $"{asOf.Status} {asOf.Body}");
            Assert.Equal(last, asOf.Body!["asOfSequence"]!.GetValue<long>());
        }
    }

    private async Task<IAsyncDisposable> HoldTheMark()
    {
        if (Host.Services.GetService<AuditWorker>() is { } worker) return await worker.PauseAsync();
        var coordinator = Host.Services.GetRequiredService<IProjectionCoordinator>();
        await coordinator.PauseAsync();
        return new Resumed(coordinator);
    }

    private sealed class Resumed(IProjectionCoordinator coordinator) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await coordinator.ResumeAsync();
    }
}
