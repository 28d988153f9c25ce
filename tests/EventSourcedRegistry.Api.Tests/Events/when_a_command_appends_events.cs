using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.Events;

public sealed class when_a_command_appends_events(AppFixture app) : ApiTest(app)
{
    private const string ServerActor = AppFixture.AdminActor;

    [Fact]
    public async Task every_event_carries_the_callers_principal_as_actor()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        await Host.Promote("churn", 1, "Production", reason: "go").Ok();
        await Host.Put("/api/v1/models/churn/aliases/champion", new { version = 1 }).Ok();

        var events = await Store.EventsOf("churn");

        Assert.Equal(4, events.Count);
        Assert.All(events, e => Assert.Equal(ServerActor, e.UserName));
        var history = await Host.Get("/api/v1/models/churn/history").Ok();
        Assert.All(history.Body!["items"]!.AsArray(), item => Assert.Equal(ServerActor, item!["actor"]!.GetValue<string>()));
    }

    [Fact]
    public async Task a_client_cannot_choose_the_actor()
    {
        var spoof = Behaviour.Headers(("X-Actor", "mallory"), ("X-User", "mallory"), ("X-Forwarded-User", "mallory"));
        await Host.Post("/api/v1/models", new { name = "churn" }, spoof).Ok(201);
        await Host.RegisterVersionWith("churn", spoof).Ok(201);
        await Host.Promote("churn", 1, "Staging", headers: spoof).Ok();

        var events = await Store.EventsOf("churn");

        Assert.Equal(3, events.Count);
        Assert.All(events, e => Assert.Equal(ServerActor, e.UserName));
    }

    [Fact]
    public async Task the_correlation_id_header_is_stored_on_the_commands_events_and_echoed()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        await Host.RegisterVersion("churn");
        await Host.Promote("churn", 1, "Production").Ok();

        var response = await Host.Promote("churn", 2, "Production", archiveExisting: true,
            headers: Behaviour.Headers(("X-Correlation-Id", "abc"))).Ok();

        Assert.Equal("abc", response.Header("X-Correlation-Id"));
        var events = await Store.EventsOf("churn");
        Assert.Equal(["abc", "abc"], events.Skip(4).Select(e => e.CorrelationId));
        Assert.DoesNotContain(events.Take(4), e => e.CorrelationId == "abc");
        var history = await Host.Get("/api/v1/models/churn/history").Ok();
        Assert.Equal(2, history.Body!["items"]!.AsArray().Count(i => i!["correlationId"]?.GetValue<string>() == "abc"));
    }

    [Fact]
    public async Task registering_a_model_stores_and_echoes_the_correlation_id_too()
    {
        var response = await Host.Post("/api/v1/models", new { name = "churn" }, Behaviour.Headers(("X-Correlation-Id", "abc"))).Ok(201);

        Assert.Equal("abc", response.Header("X-Correlation-Id"));
        Assert.Equal("abc", (await Store.EventsOf("churn")).Single().CorrelationId);
    }

    [Fact]
    public async Task without_a_correlation_id_the_traceparent_trace_id_becomes_it()
    {
        await Host.RegisterModel("churn");
        const string traceId = "4bf92f3577b34da6a3ce929d0e0e4736";

        var response = await Host.RegisterVersionWith("churn",
            Behaviour.Headers(("traceparent", $"00-{traceId}-00f067aa0ba902b7-01"))).Ok(201);

        Assert.Equal(traceId, (await Store.EventsOf("churn"))[^1].CorrelationId);
        Assert.Equal(traceId, response.Header("X-Correlation-Id"));
    }

    [Fact]
    public async Task an_explicit_correlation_id_wins_over_traceparent()
    {
        await Host.RegisterModel("churn");

        await Host.RegisterVersionWith("churn", Behaviour.Headers(
            ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), ("X-Correlation-Id", "abc"))).Ok(201);

        Assert.Equal("abc", (await Store.EventsOf("churn"))[^1].CorrelationId);
    }

    [Fact]
    public async Task every_event_has_a_correlation_and_a_causation_id_even_without_headers()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");

        var events = await Store.EventsOf("churn");

        Assert.All(events, e => Assert.False(string.IsNullOrEmpty(e.CorrelationId)));
        Assert.All(events, e => Assert.False(string.IsNullOrEmpty(e.CausationId)));
        Assert.NotEqual(events[0].CausationId, events[1].CausationId);
    }

    [Fact]
    public async Task the_reason_of_a_rename_archive_or_alias_move_is_stored()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        await Host.Put("/api/v1/models/churn/aliases/champion", new { version = 1, reason = "best AUC" }).Ok();
        await Host.Post("/api/v1/models/churn/rename", new { newName = "churn-v2", reason = "naming policy" }).Ok();
        await Host.Post("/api/v1/models/churn-v2/archive", new { reason = "superseded" }).Ok();

        var reasons = (await Store.EventsOf("churn-v2")).Select(e => e.Reason());

        Assert.Equal([null, null, "best AUC", "naming policy", "superseded"], reasons);
    }

    [Fact]
    public async Task history_lists_the_models_events_in_order_with_time_and_revision()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        await Host.Promote("churn", 1, "Staging").Ok();

        var history = await Host.Get("/api/v1/models/churn/history").Ok();

        var items = history.Body!["items"]!.AsArray();
        Assert.Equal(["ModelRegistered", "ModelVersionRegistered", "ModelVersionStageTransitioned"],
            items.Select(i => i!["type"]!.GetValue<string>()));
        Assert.Equal([1L, 2L, 3L], items.Select(i => i!["revision"]!.GetValue<long>()));
        Assert.All(items, i => Assert.True(i!["timestamp"]!.GetValue<DateTimeOffset>() > DateTimeOffset.UtcNow.AddMinutes(-5)));
        Assert.Equal("\"3\"", history.ETag);
    }

    [Fact]
    public async Task history_pages_by_cursor()
    {
        await Host.RegisterModel("churn");
        for (var i = 0; i < 4; i++) await Host.RegisterVersion("churn");

        var first = await Host.Get("/api/v1/models/churn/history?limit=2").Ok();
        var second = await Host.Get($"/api/v1/models/churn/history?limit=2&cursor={first.Body!["nextCursor"]!.GetValue<string>()}").Ok();
        var third = await Host.Get($"/api/v1/models/churn/history?limit=2&cursor={second.Body!["nextCursor"]!.GetValue<string>()}").Ok();

        var revisions = new[] { first, second, third }
            .SelectMany(p => p.Body!["items"]!.AsArray().Select(i => i!["revision"]!.GetValue<long>()));
        Assert.Equal([1L, 2L, 3L, 4L, 5L], revisions);
        Assert.Null(third.Body!["nextCursor"]);
    }
}
