using System.Text.Json;
using EventSourcedRegistry.Api.WebConsole;
using EventSourcedRegistry.Contracts.V1;

namespace EventSourcedRegistry.Tests.Console;

public sealed class when_explaining_who_put_a_version_in_its_stage
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 3, 12, 0, 0, TimeSpan.Zero);
    private static readonly Guid Request = Guid.Parse("7d0f4bb4-9f7e-4a51-9d55-3f3c1f1c0a11");

    private static HistoryEntry Event(long revision, string type, string actor, string correlation, object data) =>
        new(1000 + revision, revision, type, T0.AddMinutes(revision), actor, null, correlation, null, JsonSerializer.SerializeToElement(data, JsonSerializerOptions.Web));

    private static readonly List<HistoryEntry> History =
    [
        Event(1, "ModelVersionRegistered", "key:ci", "c1", new { version = 1 }),
        Event(2, "TransitionRequested", "key:ana", "c2", new { requestId = Request, requestedBy = "key:ana", requestedAt = T0.AddMinutes(2), reason = "ship it" }),
        Event(3, "TransitionApproved", "key:bob", "c3", new { requestId = Request, approver = "key:bob", approvedAt = T0.AddMinutes(3), reason = "looked", completes = false }),
        Event(4, "TransitionApproved", "key:cy", "c4", new { requestId = Request, approver = "key:cy", approvedAt = T0.AddMinutes(4), reason = "fine", completes = true }),
        // The approval's commit: the version enters Production, the one there before is archived.
        Event(5, "ModelVersionStageTransitioned", "key:cy", "c4", new { version = 2, toStage = "Production", reason = "ship it" }),
        Event(6, "ModelVersionStageTransitioned", "key:cy", "c4", new { version = 1, toStage = "Archived" }),
        // A later direct promotion, in a commit of its own right after another one.
        Event(7, "ModelVersionStageTransitioned", "key:ci", "c7", new { version = 3, toStage = "Staging" }),
    ];

    [Fact]
    public void a_transition_completing_a_request_names_the_requester_and_every_approver()
    {
        var entries = StageProvenance.Of(History, [1005, 1006]);

        var production = entries[1005];
        Assert.Equal("key:cy", production.Actor);
        // The transition's own reason (the request's), not the completing approval's command reason.
        Assert.Equal("ship it", production.Reason);
        Assert.Equal("key:ana", production.Request!.RequestedBy);
        Assert.Equal("ship it", production.Request.Reason);
        Assert.Equal(["key:bob", "key:cy"], production.Request.Approvals.Select(a => a.Approver));
        Assert.Equal(T0.AddMinutes(3), production.Request.Approvals[0].At);
        // The version archived by the same commit was put there by the same request.
        Assert.Equal(Request, entries[1006].Request!.Id);
    }

    [Fact]
    public void a_direct_transition_has_no_request_even_right_after_an_approved_one()
    {
        var entries = StageProvenance.Of(History, [1007, 9999]);
        Assert.Equal("key:ci", entries[1007].Actor);
        Assert.Null(entries[1007].Request);
        // A sequence outside what was read is not guessed at.
        Assert.False(entries.ContainsKey(9999));
    }
}
