"""The secretariat's directory writes: validation, audit history with redaction, search outbox."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from accounts.models import Role
from core.audit import REDACTED, AuditEntry
from core.outbox import SearchOutbox
from directory import children, services
from directory.errors import InvalidDirectoryInput
from directory.models import Address, Contact, Organization, Service

STREET = "Schuilplaats 3"


def valid(**overrides):
    values = {
        "name": "Refuge Liège",
        "name_i18n": {"fr": "Refuge Liège", "nl": "Toevlucht Luik"},
        "description": {"fr": "Hébergement pour victimes.", "en": "Shelter for victims."},
        "country": "BE",
        "region": "BE-WAL",
        "city": "Liège",
        "org_type": "specialised_victim_centre",
        "website": "https://refuge.example.org",
        "email": "contact@refuge.example.org",
        "is_24_7": True,
        "accepts_cross_border_referrals": False,
        "visibility": "network",
        "verification_status": "verified",
        "last_verified_on": "2026-01-15",
        "next_review_on": "2027-01-15",
        "review_interval_days": "365",
        "exploitation_forms": ["sexual", "labour"],
        "target_groups": ["adult_women"],
        "languages": ["fr", "en"],
        "phone": "04 000 00 00",
        "emergency_phone": "+32 4 000 00 99",
        "phone_visibility": "network",
    }
    values.update(overrides)
    return values


@pytest.fixture
def actor(make_user):
    return make_user(Role.SECRETARIAT)


@pytest.fixture
def refuge(db_session, actor):
    organization = services.create_organization(db_session, actor.id, valid())
    db_session.commit()
    return organization


def entries(db_session, **where):
    statement = select(AuditEntry).filter_by(**where).order_by(AuditEntry.at)
    return list(db_session.scalars(statement))


def outbox_count(db_session, organization_id):
    statement = (
        select(func.count()).select_from(SearchOutbox).filter_by(organization_id=organization_id)
    )
    return db_session.scalar(statement)


def test_create_stores_clean_values_unpublished_with_history_and_outbox(db_session, actor, refuge):
    assert refuge.is_published is False
    assert refuge.ref == "be-refuge-liege"
    assert refuge.codes("exploitation_form") == ["sexual", "labour"]
    assert refuge.language_codes == ["fr", "en"]
    numbers = {p.is_emergency: p.number for p in refuge.phones}
    assert numbers == {False: "+3240000000", True: "+3240000099"}  # E.164, national read as BE
    assert refuge.last_verified_at.isoformat().startswith("2026-01-15T11:00")  # noon Brussels
    history = entries(db_session, organization_id=refuge.id)
    assert history[0].action == "create"
    assert history[0].actor_id == actor.id
    assert {"description.fr", "email", "exploitation_forms", "phone"} <= {e.field for e in history}
    assert outbox_count(db_session, refuge.id) == 1


def test_update_writes_one_entry_per_changed_field_with_old_and_new(db_session, actor, refuge):
    before = len(entries(db_session, organization_id=refuge.id))
    changes = services.update_organization(
        db_session,
        actor.id,
        refuge.id,
        valid(city="Namur", description={"fr": "Nouveau texte.", "en": "Shelter for victims."}),
    )
    db_session.commit()
    assert changes.fields == ["city", "description.fr"]
    new = entries(db_session, organization_id=refuge.id)[before:]
    assert [(e.field, e.old_value, e.new_value) for e in new] == [
        ("city", "Liège", "Namur"),
        ("description.fr", "Hébergement pour victimes.", "Nouveau texte."),
    ]
    assert outbox_count(db_session, refuge.id) == 2


def test_saving_unchanged_values_writes_nothing(db_session, actor, refuge):
    before = len(entries(db_session))
    changes = services.update_organization(db_session, actor.id, refuge.id, valid())
    assert changes.fields == []
    assert len(entries(db_session)) == before
    assert outbox_count(db_session, refuge.id) == 1


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"name": ""}, {"name"}),
        ({"name": "x" * 301}, {"name"}),
        ({"email": "not-an-address"}, {"email"}),
        ({"website": "javascript:alert(1)"}, {"website"}),
        ({"phone": "12"}, {"phone"}),
        ({"org_type": "bakery"}, {"org_type"}),
        ({"exploitation_forms": ["sexual", "gardening"]}, {"exploitation_forms"}),
        ({"country": "XX"}, {"country"}),
        ({"region": "NL-NH"}, {"region"}),
        ({"visibility": "everyone"}, {"visibility"}),
        ({"next_review_on": "15/01/2027"}, {"next_review_on"}),
        ({"description": {"en": ""}}, {"description_en"}),
        ({"visibility": "network", "phone_visibility": "public"}, {"phone_visibility"}),
        ({"email": "bad", "phone": "bad", "languages": ["xx"]}, {"email", "phone", "languages"}),
    ],
)
def test_invalid_input_names_every_field_and_changes_nothing(
    db_session, actor, refuge, overrides, fields
):
    before = (len(entries(db_session)), outbox_count(db_session, refuge.id))
    with pytest.raises(InvalidDirectoryInput) as caught:
        services.update_organization(db_session, actor.id, refuge.id, valid(**overrides))
    assert set(caught.value.errors) == fields
    db_session.rollback()
    db_session.refresh(refuge)
    assert refuge.name == "Refuge Liège"
    assert refuge.email == "contact@refuge.example.org"
    assert (len(entries(db_session)), outbox_count(db_session, refuge.id)) == before


def test_publish_and_unpublish_are_recorded_and_queued(db_session, actor, refuge):
    assert services.set_published(db_session, actor.id, refuge.id, True) is True
    assert services.set_published(db_session, actor.id, refuge.id, True) is False
    assert services.set_published(db_session, actor.id, refuge.id, False) is True
    published = entries(db_session, organization_id=refuge.id, field="is_published")
    assert [(e.old_value, e.new_value) for e in published] == [("false", "true"), ("true", "false")]
    assert outbox_count(db_session, refuge.id) == 3


def test_confidential_street_is_redacted_in_the_history(db_session, actor, refuge):
    services.update_address(
        db_session,
        actor.id,
        refuge.id,
        {"address_1": STREET, "postal_code": "4000", "city": "Liège", "visibility": "secretariat"},
    )
    db_session.commit()
    address = db_session.scalars(select(Address)).one()
    assert address.address_1 == STREET
    history = entries(db_session, entity_type="address")
    street = next(e for e in history if e.field == "address_1")
    assert (street.old_value, street.new_value) == (None, REDACTED)
    assert all(STREET not in (e.new_value or "") + (e.old_value or "") for e in entries(db_session))
    city = next(e for e in history if e.field == "city")
    assert city.new_value == "Liège"  # the town is not confidential


def test_not_stored_drops_the_street_for_good(db_session, actor, refuge):
    services.update_address(
        db_session,
        actor.id,
        refuge.id,
        {"address_1": STREET, "city": "Liège", "visibility": "network"},
    )
    services.update_address(
        db_session,
        actor.id,
        refuge.id,
        {"address_1": "Another street 9", "city": "Liège", "visibility": "not_stored"},
    )
    db_session.commit()
    address = db_session.scalars(select(Address)).one()
    assert address.address_1 is None
    assert address.visibility == "not_stored"
    dropped = entries(db_session, entity_type="address", field="address_1")[-1]
    assert (dropped.old_value, dropped.new_value) == (REDACTED, None)
    assert all("Another street" not in (e.new_value or "") for e in entries(db_session))


def test_secretariat_only_contact_point_is_redacted_in_the_history(db_session, actor, refuge):
    contact = children.add_contact_point(
        db_session,
        actor.id,
        refuge.id,
        {
            "title": {"en": "Night desk"},
            "email": "night@refuge.example.org",
            "phone": "+32 4 000 00 55",
            "languages": ["fr"],
            "visibility": "secretariat",
        },
    )
    children.update_contact_point(
        db_session,
        actor.id,
        contact.id,
        {
            "title": {"en": "Night desk"},
            "email": "nuit@refuge.example.org",
            "phone": "+32 4 000 00 55",
            "languages": ["fr"],
            "visibility": "secretariat",
        },
    )
    db_session.commit()
    history = entries(db_session, entity_type="contact")
    text = " ".join(f"{e.old_value} {e.new_value}" for e in history)
    assert "night@" not in text
    assert "nuit@" not in text
    assert "Night desk" not in text
    email = [e for e in history if e.field == "email"]
    assert [(e.old_value, e.new_value) for e in email] == [(None, REDACTED), (REDACTED, REDACTED)]
    assert db_session.get(Contact, contact.id).phones[0].number == "+3240000055"


def test_network_contact_point_history_keeps_values(db_session, actor, refuge):
    children.add_contact_point(
        db_session,
        actor.id,
        refuge.id,
        {"title": {"en": "Intake"}, "email": "intake@refuge.example.org", "visibility": "network"},
    )
    email = entries(db_session, entity_type="contact", field="email")[0]
    assert email.new_value == "intake@refuge.example.org"


def test_contact_point_with_a_phone_on_an_organisation_just_loaded(db_session, actor, refuge):
    """The phone joins the organisation and its contact without an autoflush warning
    (warnings are errors in the tests), and both lists hold it after the commit."""
    db_session.expire_all()
    contact = children.add_contact_point(
        db_session,
        actor.id,
        refuge.id,
        {"title": {"en": "Intake"}, "phone": "+32 3 201 16 90", "visibility": "network"},
    )
    db_session.commit()
    db_session.expire_all()
    organization = db_session.get(Organization, refuge.id)
    stored = db_session.get(Contact, contact.id)
    assert [p.number for p in stored.phones] == ["+3232011690"]
    assert stored.phones[0] in organization.phones


WIDER_THAN_NETWORK = {
    "service": lambda s, a, o: children.add_service(
        s, a, o, {"service_type": "shelter", "visibility": "public"}
    ),
    "contact point": lambda s, a, o: children.add_contact_point(
        s, a, o, {"email": "a@b.example.org", "visibility": "public"}
    ),
    "address": lambda s, a, o: services.update_address(
        s, a, o, {"city": "Liège", "visibility": "public"}
    ),
}


@pytest.mark.parametrize("kind", list(WIDER_THAN_NETWORK))
def test_a_child_more_visible_than_its_organisation_is_refused(db_session, actor, refuge, kind):
    before = len(entries(db_session))
    with pytest.raises(InvalidDirectoryInput) as caught:
        WIDER_THAN_NETWORK[kind](db_session, actor.id, refuge.id)
    assert "visibility" in caught.value.errors
    assert "more visible than its organisation" in str(caught.value)
    assert len(entries(db_session)) == before


def test_narrowing_an_organisation_narrows_its_children(db_session, actor, refuge):
    service = children.add_service(
        db_session, actor.id, refuge.id, {"service_type": "shelter", "visibility": "network"}
    )
    changes = services.update_organization(
        db_session, actor.id, refuge.id, {"visibility": "secretariat"}
    )
    assert changes.narrowed == 3  # the service and both phones
    assert service.visibility == "secretariat"
    clamp = entries(db_session, entity_type="service", field="visibility")[-1]
    assert (clamp.old_value, clamp.new_value) == ("network", "secretariat")


def test_services_keep_the_service_type_codes_in_step(db_session, actor, refuge):
    shelter = children.add_service(
        db_session,
        actor.id,
        refuge.id,
        {"service_type": "shelter", "name_i18n": {"fr": "Hébergement"}, "visibility": "network"},
    )
    children.add_service(
        db_session,
        actor.id,
        refuge.id,
        {"service_type": "legal_assistance", "visibility": "network"},
    )
    assert shelter.name == "Hébergement"
    assert refuge.codes("service_type") == ["shelter", "legal_assistance"]
    changed = children.update_service(
        db_session,
        actor.id,
        shelter.id,
        {
            "service_type": "medical",
            "name_i18n": {"fr": "Soins"},
            "visibility": "network",
            "status": "inactive",
        },
    )
    assert set(changed) == {"service_type", "name_i18n.fr", "name", "status"}
    children.remove_service(db_session, actor.id, shelter.id)
    db_session.commit()
    assert refuge.codes("service_type") == ["legal_assistance"]
    assert db_session.scalar(select(func.count()).select_from(Service)) == 1
    assert entries(db_session, entity_type="service", action="delete")[0].old_value == "Soins"


def test_removing_a_contact_point_removes_its_phone(db_session, actor, refuge):
    contact = children.add_contact_point(
        db_session,
        actor.id,
        refuge.id,
        {"name": "Anna", "phone": "+32 4 000 00 77", "visibility": "network"},
    )
    db_session.commit()
    children.remove_contact_point(db_session, actor.id, contact.id)
    db_session.commit()
    organization = db_session.get(Organization, refuge.id)
    assert organization.contacts == []
    assert "+3240000077" not in {p.number for p in organization.phones}
