using EventSourcedRegistry.Contracts.V1;

namespace EventSourcedRegistry.Client;

/// <summary>
/// The registry accepted a stage move or alias assignment as a transition request (202) instead of performing it:
/// the target is protected by four-eyes approval. Nothing has moved; <see cref="Request"/> says what waits for whom.
/// </summary>
public sealed class ApprovalRequiredException(TransitionRequestInfo request)
    : Exception($"{request.Model}: moving version {request.Version} to {request.Kind} {request.Target} waits for " +
                $"{request.ApprovalsRequired} approval(s); request {request.Id}.")
{
    public TransitionRequestInfo Request { get; } = request;
}
