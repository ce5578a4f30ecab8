"""API shapes: explicit fields, dates in ISO 8601 beside their precision."""

from rest_framework import serializers

from tracker.models import DeadlineRevision, Evidence, Milestone, Party, Source, Withdrawal


class PartySerializer(serializers.ModelSerializer):
    class Meta:
        model = Party
        fields = ["code", "name", "kind"]


class EvidenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Evidence
        fields = ["field", "value", "quote", "start", "end", "source"]


class MilestoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = Milestone
        fields = [
            "id",
            "withdrawal",
            "kind",
            "title",
            "date",
            "date_precision",
            "status",
            "description",
            "locked",
            "updated_at",
        ]


class DeadlineRevisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeadlineRevision
        fields = ["deadline", "precision", "phrase", "source", "stated_on", "recorded_at"]


class WithdrawalSerializer(serializers.ModelSerializer):
    party = PartySerializer()
    host = PartySerializer()
    status = serializers.SerializerMethodField()
    countdown = serializers.SerializerMethodField()
    url = serializers.HyperlinkedIdentityField(view_name="tracker:api-withdrawal-detail")

    class Meta:
        model = Withdrawal
        fields = [
            "id",
            "url",
            "party",
            "host",
            "status",
            "countdown",
            "summary",
            "announced_on",
            "announced_precision",
            "started_on",
            "deadline",
            "deadline_precision",
            "completed_on",
            "completed_precision",
            "personnel",
            "personnel_qualifier",
            "personnel_withdrawn",
            "updated_at",
        ]

    def get_status(self, obj: Withdrawal) -> str:
        return obj.get_status(now=self.context.get("now"))

    def get_countdown(self, obj: Withdrawal) -> dict:
        countdown = obj.get_countdown(now=self.context.get("now"))
        return {"seconds": countdown.seconds, "text": countdown.describe()}


class WithdrawalDetailSerializer(WithdrawalSerializer):
    milestones = MilestoneSerializer(many=True)
    deadline_revisions = DeadlineRevisionSerializer(many=True)
    evidence = EvidenceSerializer(many=True)

    class Meta(WithdrawalSerializer.Meta):
        fields = WithdrawalSerializer.Meta.fields + ["milestones", "deadline_revisions", "evidence"]


class SourceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Source
        fields = [
            "id",
            "url",
            "title",
            "publisher",
            "published_on",
            "language",
            "origin",
            "content_hash",
            "fetched_at",
        ]
