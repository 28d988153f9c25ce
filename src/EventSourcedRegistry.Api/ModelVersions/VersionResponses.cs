using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Models;

namespace EventSourcedRegistry.Api.ModelVersions;

public static class VersionResponses
{
    /// <summary>The version document as the command leaves it: the loaded one with the command's events folded in.</summary>
    public static CommandResponse After(CommandOutcome outcome, ModelVersionView current, int version)
    {
        var key = ModelVersionView.Key(outcome.After.Id, version);
        var view = Clone(current);
        foreach (var @event in outcome.Events)
            if (ModelVersionView.KeysOf(@event).Contains(key))
                view = ModelVersionView.Fold(view, key, @event)!;
        return new CommandResponse(StatusCodes.Status200OK, ModelVersionResponse.From(outcome.After.Name, view));
    }

    private static readonly System.Text.Json.JsonSerializerOptions CloneOptions = new() { MaxDepth = EventSourcedRegistry.Audit.CanonicalInput.StoredMaxDepth };

    private static ModelVersionView Clone(ModelVersionView view) =>
        System.Text.Json.JsonSerializer.Deserialize<ModelVersionView>(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(view, CloneOptions), CloneOptions)!;
}
