namespace EventSourcedRegistry.Webhooks;

// Webhook subscriptions are rows of registry.webhook_subscriptions (the dispatcher moves their cursors many times a
// second), and every change made to one is also an event in the workspace's access stream, appended in the same
// transaction as the row, as API keys are: who subscribed which target to what, paused, resumed, rotated or deleted it,
// shows in the audit log and the hash chain covers it. Never a secret.

/// <summary>
/// A webhook subscription was made: <see cref="TargetUrl"/> receives the workspace's model events of
/// <see cref="EventTypes"/> (all delivered types when empty), of one model when <see cref="ModelId"/> is set
/// (<see cref="Model"/>: its name then), after sequence <see cref="StartAfter"/>. The event's actor made it.
/// </summary>
public sealed record WebhookSubscriptionCreated(Guid SubscriptionId, string TargetUrl, IReadOnlyList<string> EventTypes, Guid? ModelId,
    string? Model, long StartAfter);

/// <summary>Deliveries stopped: by a caller (the event's actor), or by the registry when the receiver answered 410 Gone.</summary>
public sealed record WebhookSubscriptionPaused(Guid SubscriptionId, string Reason);

/// <summary>Deliveries go on from the subscription's cursor.</summary>
public sealed record WebhookSubscriptionResumed(Guid SubscriptionId);

/// <summary>A new signing secret was made (shown once to the event's actor); the old one signs nothing more.</summary>
public sealed record WebhookSecretRotated(Guid SubscriptionId);

/// <summary>The subscription and its dead letters are gone; nothing more is delivered to its target.</summary>
public sealed record WebhookSubscriptionDeleted(Guid SubscriptionId, string TargetUrl);

/// <summary>Dead letters (their global sequences) are to be delivered again, out of order, through the same signer.</summary>
public sealed record WebhookDeliveriesReplayed(Guid SubscriptionId, IReadOnlyList<long> Sequences);

public static class WebhookEvents
{
    public static readonly Type[] EventTypes =
    [
        typeof(WebhookSubscriptionCreated), typeof(WebhookSubscriptionPaused), typeof(WebhookSubscriptionResumed),
        typeof(WebhookSecretRotated), typeof(WebhookSubscriptionDeleted), typeof(WebhookDeliveriesReplayed),
    ];
}
