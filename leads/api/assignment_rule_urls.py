"""`/api/assignment-rules/` (mounted under `api/`, beside the lead routes)."""

from rest_framework.routers import SimpleRouter

from leads.api.assignment_rules import AssignmentRuleViewSet

router = SimpleRouter(trailing_slash=True, use_regex_path=False)
router.register("assignment-rules", AssignmentRuleViewSet, basename="assignment-rule")

urlpatterns = router.urls
