from rest_framework.routers import SimpleRouter

from accounts.api.views import AccountViewSet, ContactViewSet

router = SimpleRouter(trailing_slash=True, use_regex_path=False)
router.register("contacts", ContactViewSet, basename="contact")
router.register("accounts", AccountViewSet, basename="account")

urlpatterns = router.urls
