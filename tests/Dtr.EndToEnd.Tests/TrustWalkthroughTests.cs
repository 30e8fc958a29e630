using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace Dtr.EndToEnd.Tests;

/// <summary>
/// Walks through the access model with real clients: an administrator sets up an organization, a team, users and
/// a repository through the management API, then skopeo, raw HTTP and <c>dotnet publish</c> check who may pull and
/// push, before and after the repository turns private, with passwords and with a personal access token.
/// </summary>
[Collection(SecuredRegistryCollection.Name)]
public sealed class TrustWalkthroughTests(SecuredRegistryFixture registry, ITestOutputHelper output)
{
    private const string Organization = "technology";
    private const string Team = "devs";
    private const string RepositoryName = "test";
    private const string Repository = $"{Organization}/{RepositoryName}";
    private const string Developer = "devuser";
    private const string Outsider = "outsider";

    private static readonly string[] AuthenticationErrors =
        ["unauthorized", "authentication required", "invalid username/password", "denied"];

    private readonly string _developerPassword = NewPassword();
    private readonly string _outsiderPassword = NewPassword();

    private Skopeo Skopeo => registry.Skopeo;

    [DotnetFact]
    public async Task Walkthrough_TeamsVisibilityAndTokens()
    {
        using var work = new TemporaryDirectory();
        var layout = work.Combine("busybox-layout");
        var image = TestImages.WriteBusyboxLayout(layout, "v1");
        var v1 = Skopeo.Reference(Repository, "v1");

        // 1. The bootstrap administrator creates the organization, its team, two users and the repository.
        using (var admin = registry.AdminApi())
        {
            await admin.CreateOrganizationAsync(Organization);
            await admin.CreateTeamAsync(Organization, Team);
            await admin.CreateUserAsync(Developer, _developerPassword, email: "devuser@example.com");
            await admin.AddTeamMemberAsync(Organization, Team, Developer);
            await admin.CreateUserAsync(Outsider, _outsiderPassword);
            await admin.CreateRepositoryAsync(
                Organization, RepositoryName, "public", scanOnPush: true, description: "Images of the access walkthrough");
            await admin.SetTeamAccessAsync(Organization, RepositoryName, Team, "read-write");
        }

        // 2. devuser signs in with skopeo login, into a file of this test only, and pushes v1.
        var developerAuthFile = work.Combine("devuser-auth.json");
        await Skopeo.LoginAsync(Developer, _developerPassword, developerAuthFile);
        Assert.True(File.Exists(developerAuthFile), $"skopeo login did not write the auth file {developerAuthFile}.");
        Assert.True(File.ReadAllText(developerAuthFile).Contains(registry.Address, StringComparison.Ordinal),
            $"skopeo login did not store credentials for {registry.Address} in {developerAuthFile}.");
        await Skopeo.CopyAsync($"oci:{layout}:v1", v1, "--dest-authfile", developerAuthFile);

        // 3. Anyone may pull a public repository: an anonymous pull returns the pushed image.
        var anonymousPull = work.Combine("anonymous-pull");
        await Skopeo.CopyAsync(v1, $"oci:{anonymousPull}:v1", "--src-no-creds");
        SinglePlatformImageTests.AssertLayoutContainsImage(anonymousPull, image);
        var served = await Skopeo.InspectRawAsync(v1, "--no-creds");
        Assert.True(Sha256.Of(served) == image.Manifest.Digest,
            $"An anonymous client receives manifest {Sha256.Of(served)} for {v1}; devuser pushed {image.Manifest.Digest}.");

        // 4. outsider may pull but not push: skopeo fails, and the token server grants pull only.
        var outsiderAuthFile = work.Combine("outsider-auth.json");
        await Skopeo.LoginAsync(Outsider, _outsiderPassword, outsiderAuthFile);
        var outsiderPush = await Skopeo.TryCopyAsync($"oci:{layout}:v1", Skopeo.Reference(Repository, "outsider"), "--dest-authfile", outsiderAuthFile);
        AssertAuthenticationFailure(outsiderPush, "outsider's push to technology/test:outsider");
        var outsiderTag = await Skopeo.TryInspectAsync(Skopeo.Reference(Repository, "outsider"), "--no-creds");
        Assert.False(outsiderTag.Succeeded, $"technology/test:outsider exists although outsider's push was rejected.\n{outsiderTag.Describe()}");

        var challenge = await GetChallengeAsync("/v2/");
        var developerToken = await RequestTokenAsync(challenge, $"repository:{Repository}:pull,push", (Developer, _developerPassword));
        Assert.Equal(["pull", "push"], BearerChallenge.GrantedActions(developerToken, Repository).Order());
        var outsiderToken = await RequestTokenAsync(challenge, $"repository:{Repository}:pull,push", (Outsider, _outsiderPassword));
        var outsiderActions = BearerChallenge.GrantedActions(outsiderToken, Repository);
        Assert.True(outsiderActions.Contains("pull"), $"outsider's token grants [{string.Join(", ", outsiderActions)}] on the public {Repository}; expected pull.");
        Assert.False(outsiderActions.Contains("push"), $"outsider's token grants [{string.Join(", ", outsiderActions)}] on {Repository}; push must not be granted.");
        await AssertManifestPutDeniedAsync(outsiderToken, layout, image);

        // 5. After the repository turns private, anonymous pulls get a Bearer challenge and outsider loses pull,
        // while devuser still pulls through the team grant.
        using (var admin = registry.AdminApi())
        {
            await admin.UpdateRepositoryAsync(Organization, RepositoryName, new JsonObject { ["visibility"] = "private" });
        }

        var privatePull = await Skopeo.TryCopyAsync(v1, $"oci:{work.Combine("anonymous-private-pull")}:v1", "--src-no-creds");
        AssertAuthenticationFailure(privatePull, "the anonymous pull of the private technology/test:v1");
        await AssertAnonymousManifestChallengedAsync();
        var outsiderPrivateToken = await RequestTokenAsync(challenge, $"repository:{Repository}:pull", (Outsider, _outsiderPassword));
        var outsiderPrivateActions = BearerChallenge.GrantedActions(outsiderPrivateToken, Repository);
        Assert.True(outsiderPrivateActions.Count == 0,
            $"outsider's token grants [{string.Join(", ", outsiderPrivateActions)}] on the private {Repository}; expected nothing.");

        var developerPull = work.Combine("devuser-private-pull");
        await Skopeo.CopyAsync(v1, $"oci:{developerPull}:v1", "--src-authfile", developerAuthFile);
        SinglePlatformImageTests.AssertLayoutContainsImage(developerPull, image);

        // 6. dotnet publish pulls the private base image and pushes technology/test:app with devuser's credentials.
        await PublishAppAsDeveloperAsync(work, image, developerAuthFile);

        // 7. A personal access token works in place of devuser's password until it is revoked.
        await PushWithAccessTokenAsync(layout, image, challenge);
    }

    private async Task PublishAppAsDeveloperAsync(TemporaryDirectory work, ImageManifest baseImage, string developerAuthFile)
    {
        var project = work.Combine(SdkContainerPublish.AppName);
        SdkContainerPublish.WriteConsoleApp(project, $"{registry.Address}/{Repository}:v1", registry.Address, Repository, "app");

        // DOCKER_CONFIG points at an empty folder, so the SDK can only use the credentials given here.
        var publish = await SdkContainerPublish.PublishAsync(project, registry.Address, new Dictionary<string, string?>
        {
            ["DOTNET_CONTAINER_REGISTRY_UNAME"] = Developer,
            ["DOTNET_CONTAINER_REGISTRY_PWORD"] = _developerPassword,
            ["DOCKER_CONFIG"] = Directory.CreateDirectory(work.Combine("docker-config")).FullName,
            ["REGISTRY_AUTH_FILE"] = null,
        });
        output.WriteLine(publish.StandardOutput);
        Assert.True(publish.Succeeded,
            $"dotnet publish -t:PublishContainer as {Developer} to the private {Repository}:app failed.\n{publish.Describe()}\n{registry.DescribeRegistry()}");

        var summary = await Skopeo.InspectAsync(Skopeo.Reference(Repository, "app"), "--authfile", developerAuthFile);
        var layers = summary["Layers"]!.AsArray().Select(l => l!.GetValue<string>()).ToList();
        Assert.True(layers.Count == 2, $"{Repository}:app has {layers.Count} layers; expected the busybox base layer and one app layer: [{string.Join(", ", layers)}].");
        Assert.True(layers[0] == baseImage.Layers[0].Digest,
            $"The first layer of {Repository}:app is {layers[0]}; expected the layer of {Repository}:v1, {baseImage.Layers[0].Digest}.");
    }

    private async Task PushWithAccessTokenAsync(string layout, ImageManifest image, BearerChallenge challenge)
    {
        using var developerApi = registry.ManagementApi(Developer, _developerPassword);
        var (tokenId, accessToken) = await developerApi.CreateAccessTokenAsync(Developer, "walkthrough");
        var tokenCredentials = $"{Developer}:{accessToken}";

        var withToken = Skopeo.Reference(Repository, "v1-token");
        await Skopeo.CopyAsync($"oci:{layout}:v1", withToken, "--dest-creds", tokenCredentials);
        var pushed = await Skopeo.InspectRawAsync(withToken, "--creds", tokenCredentials);
        Assert.True(Sha256.Of(pushed) == image.Manifest.Digest,
            $"{Repository}:v1-token, pushed with devuser's access token, serves manifest {Sha256.Of(pushed)}; expected {image.Manifest.Digest}.");

        await developerApi.RevokeAccessTokenAsync(Developer, tokenId);

        var afterRevoke = await Skopeo.TryCopyAsync($"oci:{layout}:v1", Skopeo.Reference(Repository, "v1-revoked"), "--dest-creds", tokenCredentials);
        AssertAuthenticationFailure(afterRevoke, "the push with devuser's revoked access token");
        using var tokenResponse = await challenge.RequestTokenAsync(registry.Http, $"repository:{Repository}:pull", (Developer, accessToken));
        Assert.True(tokenResponse.StatusCode == HttpStatusCode.Unauthorized,
            $"The token server returned {(int)tokenResponse.StatusCode} for devuser's revoked access token; expected 401.\n{await tokenResponse.Content.ReadAsStringAsync()}");
    }

    /// <summary>Returns the Bearer challenge of an anonymous GET, asserting that the registry sends 401 with one.</summary>
    private async Task<BearerChallenge> GetChallengeAsync(string path)
    {
        using var response = await registry.Http.GetAsync(path);
        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized,
            $"An anonymous GET {path} returned {(int)response.StatusCode}; expected 401 with a Bearer challenge.\n{registry.DescribeRegistry()}");
        var challenge = BearerChallenge.From(response);
        Assert.True(challenge is not null,
            $"The 401 for GET {path} has no Bearer challenge with a realm: WWW-Authenticate: {response.Headers.WwwAuthenticate}");
        return challenge;
    }

    /// <summary>Requests a token with basic authentication, asserts the response fields and returns the token.</summary>
    private async Task<string> RequestTokenAsync(BearerChallenge challenge, string scope, (string UserName, string Password) credentials)
    {
        using var response = await challenge.RequestTokenAsync(registry.Http, scope, credentials);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK,
            $"GET {challenge.Realm} for {scope} as {credentials.UserName} returned {(int)response.StatusCode}; expected 200.\n{body}\n{registry.DescribeRegistry()}");

        var json = JsonNode.Parse(body)!;
        var token = json["token"]?.GetValue<string>();
        Assert.True(!string.IsNullOrEmpty(token), $"The token response has no token field: {body}");
        Assert.True(json["access_token"]?.GetValue<string>() == token, $"The token response's access_token differs from its token: {body}");
        Assert.True(json["expires_in"]?.GetValue<int>() > 0, $"The token response's expires_in is missing or not positive: {body}");
        Assert.True(DateTimeOffset.TryParse(json["issued_at"]?.GetValue<string>(), out _), $"The token response's issued_at is not a date and time: {body}");
        return token!;
    }

    /// <summary>Asserts that a manifest PUT with a token that lacks push gets 401 insufficient_scope or 403 DENIED.</summary>
    private async Task AssertManifestPutDeniedAsync(string token, string layout, ImageManifest image)
    {
        var manifest = CopiedImage.ReadLayoutBlob(layout, image.Manifest);
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/v2/{Repository}/manifests/outsider-raw")
        {
            Content = new ByteArrayContent(manifest),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(MediaTypes.OciManifest);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);

        using var response = await registry.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        var insufficientScope = response.StatusCode == HttpStatusCode.Unauthorized &&
            response.Headers.WwwAuthenticate.ToString().Contains("insufficient_scope", StringComparison.Ordinal);
        var denied = response.StatusCode == HttpStatusCode.Forbidden && body.Contains("\"DENIED\"", StringComparison.Ordinal);
        Assert.True(insufficientScope || denied,
            $"PUT /v2/{Repository}/manifests/outsider-raw with outsider's token returned {(int)response.StatusCode}; expected 401 with " +
            $"error=\"insufficient_scope\" or 403 DENIED.\nWWW-Authenticate: {response.Headers.WwwAuthenticate}\nBody: {body}");
    }

    /// <summary>Asserts that an anonymous manifest GET on the private repository gets 401 and a Bearer challenge for pull.</summary>
    private async Task AssertAnonymousManifestChallengedAsync()
    {
        var path = $"/v2/{Repository}/manifests/v1";
        using var response = await registry.Http.GetAsync(path);
        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized,
            $"An anonymous GET {path} on the private repository returned {(int)response.StatusCode}; expected 401.");
        var header = response.Headers.WwwAuthenticate.ToString();
        Assert.True(header.StartsWith("Bearer realm=", StringComparison.Ordinal),
            $"The 401 for the anonymous GET {path} has WWW-Authenticate '{header}'; expected it to start with 'Bearer realm='.");
        var challenge = BearerChallenge.From(response);
        Assert.True(challenge?.Scope?.Contains($"repository:{Repository}:pull", StringComparison.Ordinal) == true,
            $"The challenge for the anonymous GET {path} has scope '{challenge?.Scope}'; expected repository:{Repository}:pull.");
    }

    private void AssertAuthenticationFailure(CommandResult result, string action)
    {
        Assert.False(result.Succeeded, $"skopeo succeeded in {action}; the registry must reject it.\n{result.Describe()}\n{registry.DescribeRegistry()}");
        Assert.True(AuthenticationErrors.Any(error => result.StandardError.Contains(error, StringComparison.OrdinalIgnoreCase)),
            $"skopeo failed in {action}, but its error names none of [{string.Join(", ", AuthenticationErrors)}]; expected an authentication or authorization error.\n{result.Describe()}");
    }

    private static string NewPassword() => "Pw-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12)).ToLowerInvariant();
}
