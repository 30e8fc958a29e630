using Dtr.AspNetCore.Configuration;
using Dtr.AspNetCore.Security;
using Dtr.Identity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.Management;

/// <summary>Users and their personal access tokens: <c>/users</c>.</summary>
internal sealed class UserEndpoints
{
    private readonly IIdentityStore _identity;
    private readonly RegistryOptions _options;
    private readonly ILogger<UserEndpoints> _logger;

    public UserEndpoints(IIdentityStore identity, IOptions<RegistryOptions> options, ILogger<UserEndpoints> logger)
    {
        _identity = identity;
        _options = options.Value;
        _logger = logger;
    }

    public static void Map(IEndpointRouteBuilder group)
    {
        var users = group.MapGroup("/users").WithTags("Users");

        users.MapPost("", ([FromServices] UserEndpoints e, HttpContext c) => e.CreateAsync(c))
            .WithName("CreateUser").WithSummary("Create a user (administrators only)")
            .Accepts<CreateUserRequest>(ManagementEndpoints.JsonContentType, ManagementEndpoints.AnyContentType)
            .Produces<UserResponse>(StatusCodes.Status201Created)
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);

        users.MapGet("", ([FromServices] UserEndpoints e, HttpContext c) => e.ListAsync(c))
            .WithName("ListUsers").WithSummary("List users by name, a page at a time (administrators only)")
            .Produces<UserListResponse>();

        users.MapGet("/{user}", ([FromServices] UserEndpoints e, HttpContext c, string user) => e.GetAsync(c, user))
            .WithName("GetUser").WithSummary("Get a user (the user themself or an administrator)")
            .Produces<UserResponse>().ProducesProblem(StatusCodes.Status404NotFound);

        users.MapPatch("/{user}", ([FromServices] UserEndpoints e, HttpContext c, string user) => e.UpdateAsync(c, user))
            .WithName("UpdateUser").WithSummary("Change a user's e-mail, full name or password (password sign-in only); administrators also change isAdmin and isActive")
            .Accepts<UpdateUserRequest>(ManagementEndpoints.JsonContentType, ManagementEndpoints.AnyContentType)
            .Produces<UserResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);

        users.MapDelete("/{user}", ([FromServices] UserEndpoints e, HttpContext c, string user) => e.DeleteAsync(c, user))
            .WithName("DeleteUser").WithSummary("Delete a user with their memberships and tokens (administrators only); their repositories must be deleted first")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        users.MapPost("/{user}/tokens", ([FromServices] UserEndpoints e, HttpContext c, string user) => e.CreateTokenAsync(c, user))
            .WithName("CreateAccessToken").WithSummary("Create a personal access token (password sign-in only); the token string is in this response only")
            .Accepts<CreateTokenRequest>(ManagementEndpoints.JsonContentType, ManagementEndpoints.AnyContentType)
            .Produces<CreatedTokenResponse>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status404NotFound);

        users.MapGet("/{user}/tokens", ([FromServices] UserEndpoints e, HttpContext c, string user) => e.ListTokensAsync(c, user))
            .WithName("ListAccessTokens").WithSummary("List a user's personal access tokens without their secrets")
            .Produces<TokenListResponse>().ProducesProblem(StatusCodes.Status404NotFound);

        users.MapDelete("/{user}/tokens/{id}", ([FromServices] UserEndpoints e, HttpContext c, string user, string id) => e.DeleteTokenAsync(c, user, id))
            .WithName("RevokeAccessToken").WithSummary("Revoke a personal access token")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);
    }

    private async Task<IResult> CreateAsync(HttpContext context)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        ManagementAccess.RequireAdmin(caller, "create users");

        var request = await ManagementInput.ReadBodyAsync<CreateUserRequest>(context);
        if (request.IsAdmin == true)
        {
            // A new administrator with a password of the caller's choosing could mint tokens for anyone, so a leaked
            // token must not be able to create one.
            ManagementAccess.RequirePasswordSignIn(context, "create an administrator");
        }

        var name = ManagementInput.RequireName(request.Name, "name");
        var password = ManagementInput.RequirePassword(request.Password);
        var newUser = new NewUser
        {
            Name = name,
            PasswordHash = PasswordHashing.Hash(password),
            Email = ManagementInput.CheckText(request.Email, "email"),
            FullName = ManagementInput.CheckText(request.FullName, "fullName"),
            IsAdmin = request.IsAdmin ?? false,
        };

        var user = await _identity.CreateUserAsync(newUser, context.RequestAborted);
        ManagementLog.UserCreated(_logger, user.Name, Describe(caller));
        return TypedResults.Created(UserPath(context, user.Name), UserResponse.From(user));
    }

    private async Task<IResult> ListAsync(HttpContext context)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        ManagementAccess.RequireAdmin(caller, "list users");

        var (limit, last) = ManagementInput.ReadPaging(context.Request, _options.MaxPageSize);
        var users = await _identity.ListUsersAsync(last, limit + 1, context.RequestAborted);
        var page = ManagementInput.Page(context, users, limit, user => user.Name);
        return TypedResults.Ok(new UserListResponse(page.Select(UserResponse.From).ToList()));
    }

    private async Task<IResult> GetAsync(HttpContext context, string userName)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        ManagementAccess.RequireSelfOrAdmin(caller, userName, "view this user");

        var user = await RequireUserAsync(userName, context.RequestAborted);
        return TypedResults.Ok(UserResponse.From(user));
    }

    private async Task<IResult> UpdateAsync(HttpContext context, string userName)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        ManagementAccess.RequireSelfOrAdmin(caller, userName, "change this user");

        var request = await ManagementInput.ReadBodyAsync<UpdateUserRequest>(context);
        if ((request.IsAdmin is not null || request.IsActive is not null) && !caller.IsAdmin)
        {
            throw ManagementProblem.Forbidden("Only system administrators may change isAdmin or isActive.");
        }

        if (request.Password is not null)
        {
            ManagementAccess.RequirePasswordSignIn(context, "change a password");
        }

        if (request.IsAdmin == true)
        {
            ManagementAccess.RequirePasswordSignIn(context, "make a user an administrator");
        }

        var update = new UserUpdate
        {
            PasswordHash = request.Password is null ? null : PasswordHashing.Hash(ManagementInput.RequirePassword(request.Password)),
            Email = ManagementInput.CheckText(request.Email, "email"),
            FullName = ManagementInput.CheckText(request.FullName, "fullName"),
            IsAdmin = request.IsAdmin,
            IsActive = request.IsActive,
        };

        var user = await _identity.UpdateUserAsync(userName, update, context.RequestAborted)
            ?? throw UserNotFound(userName);
        return TypedResults.Ok(UserResponse.From(user));
    }

    private async Task<IResult> DeleteAsync(HttpContext context, string userName)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        ManagementAccess.RequireAdmin(caller, "delete users");
        if (string.Equals(caller.UserName, userName, StringComparison.Ordinal))
        {
            throw ManagementProblem.Conflict("You cannot delete your own account; ask another administrator.");
        }

        if (!await _identity.DeleteUserAsync(userName, context.RequestAborted))
        {
            throw UserNotFound(userName);
        }

        ManagementLog.UserDeleted(_logger, userName, Describe(caller));
        return TypedResults.NoContent();
    }

    private async Task<IResult> CreateTokenAsync(HttpContext context, string userName)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        ManagementAccess.RequireSelfOrAdmin(caller, userName, "create tokens for this user");
        ManagementAccess.RequirePasswordSignIn(context, "create a personal access token");

        // The body is optional: a POST without one creates a token without a label.
        var request = context.Request.ContentLength is 0 || (context.Request.ContentLength is null && !context.Request.HasJsonContentType())
            ? new CreateTokenRequest(null)
            : await ManagementInput.ReadBodyAsync<CreateTokenRequest>(context);
        var label = ManagementInput.CheckText(request.Label, "label");
        await RequireUserAsync(userName, context.RequestAborted);

        var (id, token, secretHash) = AccessTokens.Create();
        var stored = await _identity.CreateAccessTokenAsync(userName, id, secretHash, label, context.RequestAborted);
        ManagementLog.TokenCreated(_logger, stored.Id, userName, Describe(caller));
        return TypedResults.Created(
            UserPath(context, userName) + "/tokens/" + Uri.EscapeDataString(stored.Id),
            new CreatedTokenResponse(stored.Id, token, stored.Label, stored.CreatedAt));
    }

    private async Task<IResult> ListTokensAsync(HttpContext context, string userName)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        ManagementAccess.RequireSelfOrAdmin(caller, userName, "list the tokens of this user");
        await RequireUserAsync(userName, context.RequestAborted);

        var tokens = await _identity.ListAccessTokensAsync(userName, context.RequestAborted);
        return TypedResults.Ok(new TokenListResponse(tokens.Select(TokenResponse.From).ToList()));
    }

    private async Task<IResult> DeleteTokenAsync(HttpContext context, string userName, string id)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        ManagementAccess.RequireSelfOrAdmin(caller, userName, "revoke the tokens of this user");

        if (!await _identity.DeleteAccessTokenAsync(userName, id, context.RequestAborted))
        {
            throw ManagementProblem.NotFound($"The user '{userName}' has no access token '{id}'.");
        }

        ManagementLog.TokenRevoked(_logger, id, userName, Describe(caller));
        return TypedResults.NoContent();
    }

    private async ValueTask<User> RequireUserAsync(string userName, CancellationToken cancellationToken) =>
        await _identity.GetUserAsync(userName, cancellationToken) ?? throw UserNotFound(userName);

    private static ManagementProblem UserNotFound(string userName) => ManagementProblem.NotFound($"The user '{userName}' does not exist.");

    private static string UserPath(HttpContext context, string userName) =>
        $"{context.Request.PathBase}{ManagementEndpoints.Prefix(context)}/users/{Uri.EscapeDataString(userName)}";

    /// <summary>Names the caller in log lines.</summary>
    internal static string Describe(RegistryCaller caller) => caller.UserName ?? "anonymous (authentication is off)";
}
