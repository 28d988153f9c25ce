namespace EventSourcedRegistry.Api.Webhooks;

public static class WebhooksConfiguration
{
    /// <summary>The subscriptions' tables and store, the sender, and (unless <c>Registry:Webhooks:Enabled</c> is false) the dispatcher.</summary>
    public static WebApplicationBuilder AddWebhooks(this WebApplicationBuilder builder)
    {
        var options = WebhookOptions.From(builder.Configuration);
        builder.Services.AddSingleton(options);
        builder.Services.AddHostedService<WebhookTables>();
        builder.Services.AddSingleton<WebhookSubscriptions>();
        builder.Services.AddSingleton<WebhookEventTypes>();
        builder.Services.AddSingleton<WebhookSender>();
        if (options.Enabled)
        {
            builder.Services.AddSingleton<WebhookDispatcher>();
            builder.Services.AddHostedService(services => services.GetRequiredService<WebhookDispatcher>());
        }
        return builder;
    }
}
