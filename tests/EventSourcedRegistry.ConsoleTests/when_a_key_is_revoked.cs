using EventSourcedRegistry.ConsoleTests.Support;

namespace EventSourcedRegistry.ConsoleTests;

public sealed class when_a_key_is_revoked(ConsoleFixture console) : ConsoleTest(console)
{
    [Fact]
    public async Task its_session_is_refused_at_the_next_request()
    {
        var (id, reader) = await KeyOfDefault(new { role = "reader" });
        var page = await SignIn(reader);

        var revoked = await Call(HttpMethod.Delete, $"/api/v1/admin/keys/{id}");
        Assert.True(revoked.Status == 200, $"{revoked.Status} {revoked.Body}");

        await page.ReloadAsync();
        Assert.Contains("/console/signin", page.Url);
        Assert.DoesNotContain(await Browser.CookiesAsync(), c => c.Name == "esr-console");
    }
}
