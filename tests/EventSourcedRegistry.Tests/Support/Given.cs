using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EventSourcedRegistry.Models;

namespace EventSourcedRegistry.Tests.Support;

/// <summary>Builds model state the way production does: decide, then fold the accepted events.</summary>
public static class Given
{
    public static readonly Guid ModelId = Guid.Parse("6f1c2a0e-8d4b-4b5e-9a57-3c2d1e0f9a01");
    public const string ModelName = "churn-predictor";

    /// <summary>A registered model with <paramref name="versions"/> versions, all in the initial stage.</summary>
    public static ModelView Model(int versions = 0, LifecycleGraph? lifecycle = null)
    {
        var model = Stream(new ModelRegistered(ModelId, ModelName, "Predicts churn.", new Dictionary<string, string> { ["team"] = "growth" }));
        for (var i = 0; i < versions; i++) model.RegisterVersion(lifecycle);
        return model;
    }

    /// <summary>Folds events from nothing, as a replay of the stream does.</summary>
    public static ModelView Stream(params object[] events)
    {
        ModelView? view = null;
        foreach (var e in events) view = ModelView.Fold(view, e);
        return view ?? throw new ArgumentException("A stream needs at least one event.", nameof(events));
    }

    /// <summary>Applies a decision that must be accepted and returns the folded state.</summary>
    public static ModelView Then(this ModelView model, Func<ModelView, Decision> decide)
    {
        var decision = decide(model);
        Assert.False(decision.IsRejected, decision.Rejection?.Detail);
        return model.Apply(decision);
    }

    public static ModelView Apply(this ModelView model, Decision decision)
    {
        foreach (var e in decision.Events) model = ModelView.Fold(model, e);
        return model;
    }

    public static ModelView RegisterVersion(this ModelView model, LifecycleGraph? lifecycle = null) =>
        model.Then(m => ModelDecisions.RegisterVersion(m, lifecycle ?? LifecycleGraph.Default, Artifact(m.LatestVersion + 1),
            null, null, null, null, null, null));

    public static ModelView InStage(this ModelView model, int version, string stage, LifecycleGraph? lifecycle = null) =>
        model.Then(m => ModelDecisions.TransitionStage(m, lifecycle ?? LifecycleGraph.Default, version, stage, null, false));

    public static ModelView WithAlias(this ModelView model, string alias, int version) =>
        model.Then(m => ModelDecisions.AssignAlias(m, alias, version));

    public static ModelView Archived(this ModelView model) => model.Then(ModelDecisions.Archive);

    /// <summary>A distinct, well-formed artifact per number: the SHA-256 of a name, as an uploaded blob has.</summary>
    public static ArtifactReference Artifact(int n) => new(null, Sha256($"artifact-{n}"), 1024L * n);

    public static string Sha256(string content) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content)));

    public static JsonElement Json(string literal) => JsonSerializer.Deserialize<JsonElement>(literal);
}
