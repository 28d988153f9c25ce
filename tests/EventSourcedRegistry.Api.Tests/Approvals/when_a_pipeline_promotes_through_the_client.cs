using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Client;
using EventSourcedRegistry.Contracts.V1.Requests;

namespace EventSourcedRegistry.Api.Tests.Approvals;

/// <summary>The typed client on the host with default approvals: a protected move throws with the request, and an approver's client approves it.</summary>
public sealed class when_a_pipeline_promotes_through_the_client(AppFixture app) : ApiTest(app)
{
    [Fact]
    public async Task a_protected_promotion_throws_with_the_request_and_the_approvers_client_approves_it()
    {
        var host = await App.GovernedHost();
        var pipeline = new RegistryClient(new RegistryClientOptions { HttpClient = host.ClientWithKey((await host.CreateKey("contributor")).Key) });
        var approver = new RegistryClient(new RegistryClientOptions { HttpClient = host.ClientWithKey((await host.CreateKey("approver")).Key) });
        await pipeline.RegisterModelAsync("churn");
        await pipeline.RegisterVersionAsync("churn", new RegisterModelVersion(new ArtifactInput("s3://m/1.onnx", RegistryCalls.Sha256A, 1)));

        var pending = await Assert.ThrowsAsync<ApprovalRequiredException>(() =>
            pipeline.TransitionStageAsync("churn", 1, "Production", "beats v0", archiveExisting: true));

        Assert.Equal(("stage", "Production", "pending"), (pending.Request.Kind, pending.Request.Target, pending.Request.State));
        Assert.Equal(pending.Request.Id, Assert.Single((await pipeline.ListRequestsAsync("churn", "pending")).Items).Id);
        var approved = await approver.ApproveRequestAsync("churn", pending.Request.Id, RegistryCalls.Sha256A, "reviewed");
        Assert.Equal("approved", approved.State);
        Assert.Equal("Production", (await pipeline.GetVersionAsync("churn", 1)).Stage);

        var alias = await Assert.ThrowsAsync<ApprovalRequiredException>(() => pipeline.SetAliasAsync("churn", "champion", 1));
        var rejected = await approver.RejectRequestAsync("churn", alias.Request.Id, "not yet");
        Assert.Equal(("rejected", "not yet"), (rejected.State, rejected.ClosedReason));
    }
}
